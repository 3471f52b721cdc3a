# The Debian package: what `cmake --build build --target package` puts in portman_VERSION_ARCH.deb.
# Included from the top CMakeLists.txt after the portman target. The man page and the bash
# completion are made at build time by the portman just built, from its own tree of flags.

set(PORTMAN_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PORTMAN_PACKAGE_OUT ${CMAKE_BINARY_DIR}/packaging)
set(PORTMAN_PACKAGE_MAINTAINER "portman authors <portman@example.org>"
    CACHE STRING "Maintainer field of the Debian package: NAME <EMAIL>")
set(PORTMAN_SOURCE_URL "https://github.com/portman/portman"
    CACHE STRING "Where the source is, for the copyright file")
set(PORTMAN_DEB_VERSION ${PROJECT_VERSION})

# Generated: the man page and the completion script (by portman itself), the changelog (gzipped
# as Debian wants: -9, no name or time stamp in the header).
add_custom_command(
  OUTPUT ${PORTMAN_PACKAGE_OUT}/portman.1 ${PORTMAN_PACKAGE_OUT}/portman.1.gz
  COMMAND $<TARGET_FILE:portman> man > ${PORTMAN_PACKAGE_OUT}/portman.1
  COMMAND gzip -9n -c ${PORTMAN_PACKAGE_OUT}/portman.1 > ${PORTMAN_PACKAGE_OUT}/portman.1.gz
  DEPENDS portman
  COMMENT "Generating the man page portman(1)")
add_custom_command(
  OUTPUT ${PORTMAN_PACKAGE_OUT}/completion/portman
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PORTMAN_PACKAGE_OUT}/completion
  COMMAND $<TARGET_FILE:portman> completion bash > ${PORTMAN_PACKAGE_OUT}/completion/portman
  DEPENDS portman
  COMMENT "Generating the bash completion")
configure_file(${PORTMAN_PACKAGING_DIR}/debian/changelog.in ${PORTMAN_PACKAGE_OUT}/changelog @ONLY)
configure_file(${PORTMAN_PACKAGING_DIR}/debian/copyright.in ${PORTMAN_PACKAGE_OUT}/copyright @ONLY)
add_custom_command(
  OUTPUT ${PORTMAN_PACKAGE_OUT}/changelog.gz
  COMMAND gzip -9n -c ${PORTMAN_PACKAGE_OUT}/changelog > ${PORTMAN_PACKAGE_OUT}/changelog.gz
  DEPENDS ${PORTMAN_PACKAGE_OUT}/changelog)
add_custom_target(portman_package_files ALL
  DEPENDS ${PORTMAN_PACKAGE_OUT}/portman.1.gz ${PORTMAN_PACKAGE_OUT}/completion/portman
          ${PORTMAN_PACKAGE_OUT}/changelog.gz)

# The installed config: config/portman.yml with the registry where the package keeps it.
file(READ ${PROJECT_SOURCE_DIR}/config/portman.yml PORTMAN_INSTALLED_CONFIG)
string(REGEX REPLACE "\nregistry:[^\n]*" "\nregistry: /var/lib/portman/port_registry.json"
       PORTMAN_INSTALLED_CONFIG "${PORTMAN_INSTALLED_CONFIG}")
if(NOT PORTMAN_INSTALLED_CONFIG MATCHES "\nregistry: /var/lib/portman/port_registry.json")
  message(FATAL_ERROR "config/portman.yml has no top-level 'registry:' key to set for the package")
endif()
file(WRITE ${PORTMAN_PACKAGE_OUT}/portman.yml "${PORTMAN_INSTALLED_CONFIG}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/config/portman.yml)

# Everything outside /usr/bin (the binary's own rule is in the top CMakeLists.txt).
install(FILES ${PORTMAN_PACKAGE_OUT}/portman.yml DESTINATION /etc/portman
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PORTMAN_PACKAGING_DIR}/systemd/portman.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/rules/portman.rules.yml DESTINATION share/portman/rules)
install(FILES ${PROJECT_SOURCE_DIR}/dashboards/portman.json DESTINATION share/portman/dashboards)
install(FILES ${PROJECT_SOURCE_DIR}/config/prometheus.yml ${PROJECT_SOURCE_DIR}/config/alertmanager.yml
        DESTINATION share/portman/examples)
install(FILES ${PORTMAN_PACKAGE_OUT}/portman.1.gz DESTINATION share/man/man1)
install(FILES ${PORTMAN_PACKAGE_OUT}/completion/portman
        DESTINATION share/bash-completion/completions)
install(FILES ${PORTMAN_PACKAGE_OUT}/copyright ${PORTMAN_PACKAGE_OUT}/changelog.gz
        DESTINATION share/doc/portman)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portman)
set(CPACK_PACKAGE_VERSION ${PORTMAN_DEB_VERSION})
set(CPACK_PACKAGE_CONTACT "${PORTMAN_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "port registry, live socket scanner and Prometheus exporter")
set(CPACK_PACKAGE_DESCRIPTION
    "portman keeps a registry of which service owns which port, scans the sockets\n"
    "that really listen with the process, user, container and systemd unit that\n"
    "hold them, and reports what disagrees. The agent exports the same checks to\n"
    "Prometheus, with alert rules and a Grafana dashboard.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # portman_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PORTMAN_SOURCE_URL}")
# The libraries linked are found by dpkg-shlibdeps. Those opened at run time (dlopen, see
# libportman/curl_api.cpp and agent/agent_libraries.cpp) it cannot see: they are listed here, at
# Debian 12's versions, whose functions the loaders bind. adduser runs in postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "adduser, libcurl4 (>= 7.88.1), libmicrohttpd12 (>= 0.9.75), libgnutls30 (>= 3.7.9), libcrypt1, zlib1g")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PORTMAN_PACKAGING_DIR}/debian/conffiles ${PORTMAN_PACKAGING_DIR}/debian/postinst
    ${PORTMAN_PACKAGING_DIR}/debian/prerm ${PORTMAN_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)

if(PORTMAN_BUILD_TESTS)
  include(${CMAKE_CURRENT_LIST_DIR}/package_tests.cmake)
endif()
