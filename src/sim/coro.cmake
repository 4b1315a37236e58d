# coro.cmake — build rules of the simulator's coroutine layer (src/sim/coro.h): the
# qinval_sim_coro library, the QINVAL_CORO_UCONTEXT option and the switch benchmark
# (build/bench/coro_switch).
# Included from the top-level CMakeLists.txt, before add_subdirectory(tests).

enable_language(ASM) # coro_switch.S, preprocessed and assembled by the C compiler driver

option(QINVAL_CORO_UCONTEXT
       "Coroutines on getcontext/makecontext/swapcontext instead of the assembly switch" OFF)

add_library(qinval_sim_coro STATIC
  ${CMAKE_CURRENT_LIST_DIR}/coro.c ${CMAKE_CURRENT_LIST_DIR}/coro_switch.S)
target_include_directories(qinval_sim_coro PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(qinval_sim_coro PUBLIC qinval_util) # page-fault count for the stack pool
if(QINVAL_CORO_UCONTEXT)
  # PUBLIC so that the test knows which backend to expect.
  target_compile_definitions(qinval_sim_coro PUBLIC QINVAL_CORO_UCONTEXT=1)
endif()

add_executable(bench_coro_switch ${PROJECT_SOURCE_DIR}/bench/coro_switch.c)
target_link_libraries(bench_coro_switch PRIVATE qinval_sim_coro)
set_target_properties(bench_coro_switch PROPERTIES
  OUTPUT_NAME coro_switch RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
