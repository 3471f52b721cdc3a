# ctest: the package builds, holds what it should, passes lintian; the unit passes
# systemd-analyze verify; the man page renders and covers every flag; the completion completes.
# Label packaging; a test whose tool is missing is skipped (77). Included by package.cmake.
set(PACKAGE_TESTS ${CMAKE_CURRENT_LIST_DIR}/tests)
set(PACKAGE_TEST_DIR ${CMAKE_BINARY_DIR}/packaging/test-deb)
add_test(NAME packaging/build
         COMMAND ${PACKAGE_TESTS}/build_package.sh ${CMAKE_BINARY_DIR} ${PACKAGE_TEST_DIR}
                 ${PORTMAN_DEB_VERSION})
set_tests_properties(packaging/build PROPERTIES FIXTURES_SETUP portman_deb)
foreach(check IN ITEMS contents depends lintian)
  add_test(NAME packaging/${check}
           COMMAND ${PACKAGE_TESTS}/check_${check}.sh ${PACKAGE_TEST_DIR})
  set_tests_properties(packaging/${check} PROPERTIES FIXTURES_REQUIRED portman_deb)
endforeach()
add_test(NAME packaging/systemd_verify COMMAND ${PACKAGE_TESTS}/check_unit.sh ${PACKAGE_TEST_DIR})
set_tests_properties(packaging/systemd_verify PROPERTIES FIXTURES_REQUIRED portman_deb)
add_test(NAME packaging/man_render
         COMMAND ${PACKAGE_TESTS}/check_man.sh ${PORTMAN_PACKAGE_OUT}/portman.1.gz)
add_test(NAME packaging/man_covers_cli
         COMMAND ${PACKAGE_TESTS}/check_man.sh ${PORTMAN_PACKAGE_OUT}/portman.1.gz --covers
                 $<TARGET_FILE:portman>)
add_test(NAME packaging/completion
         COMMAND ${PACKAGE_TESTS}/check_completion.sh $<TARGET_FILE:portman>)
set_tests_properties(packaging/build packaging/contents packaging/depends packaging/lintian
                     packaging/systemd_verify packaging/man_render packaging/man_covers_cli
                     packaging/completion
                     PROPERTIES LABELS packaging SKIP_RETURN_CODE 77)
# The unit's capabilities are enough for the agent's owner sources (needs root, as CI runs).
add_test(NAME packaging/unit_capabilities
         COMMAND ${PACKAGE_TESTS}/check_unit_capabilities.sh
                 ${CMAKE_CURRENT_LIST_DIR}/systemd/portman.service $<TARGET_FILE:portman>
                 $<TARGET_FILE:test_listener>)
set_tests_properties(packaging/unit_capabilities PROPERTIES LABELS packaging SKIP_RETURN_CODE 77)
