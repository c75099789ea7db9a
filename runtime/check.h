//! Internal invariant checks. TQL_CHECK is for bugs in tql, never for user input:
//! bad queries and bad batches are reported through Status (see status.h).
#pragma once

#include <cstdio>
#include <cstdlib>

#define TQL_CHECK(cond)                                                                         \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "tql internal error: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                                      \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

#ifdef NDEBUG
#define TQL_DCHECK(cond) ((void)0)
#else
#define TQL_DCHECK(cond) TQL_CHECK(cond)
#endif
