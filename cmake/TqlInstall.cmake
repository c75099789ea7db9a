# Install rules: the CLI, the shared library with its headers, and the files that let other
# projects find it: tqlConfig.cmake (find_package(tql) → tql::tql) and tql.pc (pkg-config).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(tql_shared PROPERTIES EXPORT_NAME tql)
install(TARGETS tql_shared EXPORT tqlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/tql/tql.h ${PROJECT_SOURCE_DIR}/include/tql/tql.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tql)

set(TQL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tql)
install(EXPORT tqlTargets NAMESPACE tql:: DESTINATION ${TQL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tqlConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tqlConfig.cmake
                              INSTALL_DESTINATION ${TQL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tqlConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tqlConfig.cmake ${PROJECT_BINARY_DIR}/tqlConfigVersion.cmake
        DESTINATION ${TQL_CMAKE_DIR})

# pkg-config files hold the prefix: the one given at install time (cmake --install --prefix)
# replaces the configured one.
install(CODE "
  set(CMAKE_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/tql.pc.in\"
                 \"${PROJECT_BINARY_DIR}/install-pc/tql.pc\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/install-pc/tql.pc\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
")
