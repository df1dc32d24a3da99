// CloudWatch metric math (GetMetricData's Expression): a parser and an evaluator over time
// series.
//
// The language tide speaks (a subset of CloudWatch's):
//   - numbers (1, 2.5, 1e3), query ids (m1, errors_5xx: a lowercase letter first), parentheses;
//   - arrays of series [m1, m2, ...];
//   - + - * / ^ and unary minus, between series, scalars and arrays (an array with a scalar or a
//     series applies to each of its series). Two series combine where both have a datapoint;
//     results that are not finite (x / 0) are dropped;
//   - SUM, AVG, MIN, MAX: of an array, one series with the aggregate at each timestamp any of
//     them has; of a single series, a scalar (the aggregate of all its values);
//   - FILL(x, v): x with every period of the query's range that has no datapoint filled with v,
//     where v is a number, REPEAT (the last value before, or the first after) or LINEAR
//     (interpolated between the values either side; at the ends, the nearest value);
//   - RATE(x): the change per second between consecutive datapoints (the first has none);
//   - ABS(x); METRICS() (every MetricStat query of the request, as an array) and
//     METRICS("text") (those whose Id contains text).
// Function names are upper case, as CloudWatch writes them.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tide::metrics::math {

// Datapoints by timestamp (a period's start), ascending.
using Series = std::map<TimeMs, double>;

// What an expression (or part of one) evaluates to.
struct Value {
  enum class Kind { Scalar, Series, Array };
  Kind kind = Kind::Scalar;
  double scalar = 0;          // Scalar
  std::vector<Series> series; // Series: exactly one; Array: any number
};

// What evaluation sees: the series of the ids an expression references, and the query's range.
struct Environment {
  std::map<std::string, Series> values; // by query id
  std::vector<std::string> metricIds;   // the MetricStat queries' ids, in request order
  TimeMs start = 0;                     // the range FILL fills: [start, end), one timestamp per
  TimeMs end = 0;                       // period, aligned to the epoch
  int periodSeconds = 60;
};

struct Node;

class Expression {
public:
  // Errors: "ValidationError" naming the position and what was expected, for text that is not
  // an expression, an unknown function, or a function given the wrong number of arguments.
  static Result<Expression> parse(std::string_view text);

  // The ids it references, in order of first use (METRICS() references none by name).
  const std::vector<std::string>& references() const { return references_; }
  // Whether it calls METRICS() (and so depends on every MetricStat query).
  bool usesMetrics() const { return usesMetrics_; }

  // Errors: "ValidationError" for an id missing from env.values, or values of the wrong kind
  // (an array where a series is needed, two arrays combined, FILL of a scalar, ...).
  Result<Value> evaluate(const Environment& env) const;

  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

private:
  Expression() = default;
  std::unique_ptr<Node> root_;
  std::vector<std::string> references_;
  bool usesMetrics_ = false;
};

// Whether `id` is a valid query id: a lowercase letter, then letters, digits and '_', at most
// 255 characters.
bool isValidQueryId(std::string_view id);

} // namespace tide::metrics::math
