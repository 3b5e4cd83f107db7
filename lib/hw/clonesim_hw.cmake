# Build rules for clonesim_hw beyond the plain sources: embed the shipped
# design points (configs/hw/*.yaml) into the library.  Included from
# lib/CMakeLists.txt after add_library(clonesim_hw ...).
file(GLOB CLONESIM_HW_YAMLS CONFIGURE_DEPENDS "${CLONESIM_CONFIG_DIR}/hw/*.yaml")
set(CLONESIM_HW_EMBEDDED "${CMAKE_CURRENT_BINARY_DIR}/hw/embedded_configs.cpp")
add_custom_command(
  OUTPUT "${CLONESIM_HW_EMBEDDED}"
  COMMAND "${CMAKE_COMMAND}" "-DCONFIG_DIR=${CLONESIM_CONFIG_DIR}/hw"
          "-DOUTPUT=${CLONESIM_HW_EMBEDDED}"
          -P "${CMAKE_CURRENT_SOURCE_DIR}/hw/embed_configs.cmake"
  DEPENDS ${CLONESIM_HW_YAMLS} "${CMAKE_CURRENT_SOURCE_DIR}/hw/embed_configs.cmake"
  COMMENT "Embedding shipped design points (configs/hw/*.yaml)"
  VERBATIM)
target_sources(clonesim_hw PRIVATE "${CLONESIM_HW_EMBEDDED}")
