//! The Arrow C Data Interface and C Stream Interface structures, exactly as the Arrow
//! specification defines them (a stable ABI: no Arrow library is needed to use them). They
//! are defined once, in the public C header, which hosts include too.
#pragma once

#include "tql/tql.h"
