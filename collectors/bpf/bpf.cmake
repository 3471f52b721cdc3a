# The BPF owner source (collectors/owner_bpf.cpp): owners.bpf.c compiled with clang for the BPF
# target and turned into a light skeleton header by bpftool, both at build time. Without clang,
# bpftool or libbpf's headers (Debian: clang, bpftool, libbpf-dev) portman builds without it and
# finds owners with the /proc walk only. PORTMAN_HAVE_BPF tells the code which.
option(PORTMAN_BPF "Build the BPF owner source when clang, bpftool and libbpf headers are found" ON)

set(PORTMAN_HAVE_BPF OFF)
if(PORTMAN_BPF)
  find_program(PORTMAN_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
  find_program(PORTMAN_BPFTOOL bpftool PATHS /usr/sbin /sbin)
  find_path(PORTMAN_LIBBPF_INCLUDE bpf/skel_internal.h)
  set(missing "")
  if(NOT PORTMAN_BPF_CLANG)
    list(APPEND missing "clang")
  endif()
  if(NOT PORTMAN_BPFTOOL)
    list(APPEND missing "bpftool")
  endif()
  if(NOT PORTMAN_LIBBPF_INCLUDE)
    list(APPEND missing "bpf/skel_internal.h")
  endif()
  if(missing)
    string(REPLACE ";" ", " missing "${missing}")
    message(STATUS "BPF owner source: not built (not found: ${missing}; install clang, bpftool, "
                   "libbpf-dev); owners come from the /proc walk")
  else()
    set(PORTMAN_HAVE_BPF ON)
  endif()
else()
  message(STATUS "BPF owner source: not built (PORTMAN_BPF=OFF); owners come from the /proc walk")
endif()

if(PORTMAN_HAVE_BPF)
  enable_language(C)
  set(bpf_dir ${CMAKE_SOURCE_DIR}/collectors/bpf)
  set(bpf_out ${CMAKE_BINARY_DIR}/generated/collectors/bpf)
  file(MAKE_DIRECTORY ${bpf_out})
  add_custom_command(
    OUTPUT ${bpf_out}/owners.bpf.o
    COMMAND ${PORTMAN_BPF_CLANG} -target bpf -g -O2 -Wall -Werror -I${PORTMAN_LIBBPF_INCLUDE}
            -c ${bpf_dir}/owners.bpf.c -o ${bpf_out}/owners.bpf.o
    DEPENDS ${bpf_dir}/owners.bpf.c ${bpf_dir}/owners_core.h ${bpf_dir}/owner_record.h
    COMMENT "Compiling the BPF owners iterator")
  add_custom_command(
    OUTPUT ${bpf_out}/owners.lskel.h
    COMMAND ${CMAKE_COMMAND} -DBPFTOOL=${PORTMAN_BPFTOOL} -DOBJECT=${bpf_out}/owners.bpf.o
            -DOUTPUT=${bpf_out}/owners.lskel.h -P ${bpf_dir}/skeleton.cmake
    DEPENDS ${bpf_out}/owners.bpf.o ${bpf_dir}/skeleton.cmake
    COMMENT "Generating the light skeleton of the BPF owners iterator")
  add_custom_target(portman_bpf_skeleton DEPENDS ${bpf_out}/owners.lskel.h)
  target_sources(portman_collectors PRIVATE ${bpf_dir}/owners_loader.c)
  # The generated skeleton is C as bpftool writes it: not held to -Wpedantic.
  set_source_files_properties(${bpf_dir}/owners_loader.c PROPERTIES
    OBJECT_DEPENDS ${bpf_out}/owners.lskel.h
    COMPILE_OPTIONS "-Wno-pedantic;-Wno-pointer-arith;-Wno-overlength-strings")
  target_include_directories(portman_collectors PRIVATE ${PORTMAN_LIBBPF_INCLUDE})
  target_compile_definitions(portman_collectors PUBLIC PORTMAN_HAVE_BPF=1)
  add_dependencies(portman_collectors portman_bpf_skeleton)
  message(STATUS "BPF owner source: built (${PORTMAN_BPF_CLANG}, ${PORTMAN_BPFTOOL})")
endif()
