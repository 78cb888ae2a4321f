# ASan+UBSan for the whole build when DRBD_SANITIZE is on.
if(DRBD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  # -O1 with line tables only: half the compile time of -O2 -g under ASan
  # (CI's asan-build step, scripts/test.sh), still file:line in the reports.
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
  set(CMAKE_C_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
endif()
