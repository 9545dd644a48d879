// Umbrella header of the C++ embedding API. See docs/embedding.md.
#pragma once

#include "tollgate/budget.hpp"
#include "tollgate/decision.hpp"
#include "tollgate/diagnostic.hpp"
#include "tollgate/engine.hpp"
#include "tollgate/ledger.hpp"
#include "tollgate/policy.hpp"
#include "tollgate/prices.hpp"
#include "tollgate/request.hpp"
