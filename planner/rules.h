//! Rewrite rules of the logical plan. Each is a small class with a name; `tql explain
//! --verbose` lists the ones that fired and what they did.
#pragma once

#include <string>
#include <vector>

#include "planner/logical_plan.h"

namespace tql {

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const char* name() const = 0;
  // Rewrites the plan; appends a line per change to `fired` ("what it did").
  virtual void Apply(PlanPtr* plan, const EvalContext& ctx, std::vector<std::string>* fired) = 0;
};

// The rules in the order they run.
std::vector<std::unique_ptr<Rule>> DefaultRules();

// Runs the default rules over the plan.
void OptimizePlan(PlanPtr* plan, const EvalContext& ctx, std::vector<std::string>* fired);

// Estimated cost per row of evaluating `e` (relative units: an integer compare is 1).
int EstimateCost(const PExpr& e);

}  // namespace tql
