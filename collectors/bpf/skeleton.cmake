# cmake -DBPFTOOL=... -DOBJECT=... -DOUTPUT=... -P skeleton.cmake: writes the light skeleton of
# OBJECT to OUTPUT (bpftool prints it on stdout), replacing OUTPUT only when bpftool succeeded.
execute_process(COMMAND ${BPFTOOL} gen skeleton -L ${OBJECT} name portman_owners
                OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "bpftool gen skeleton -L ${OBJECT} failed: ${result}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
