#include "metrics/metric_math.h"

#include "metrics/series.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace tide::metrics::math {

struct Node {
  enum class Type { Number, Id, String, Keyword, Array, Negate, Binary, Call };
  Type type = Type::Number;
  double number = 0;
  std::string text; // Id, String, Keyword (REPEAT, LINEAR), Call (the function's name)
  char op = 0;      // Binary: + - * / ^
  std::vector<std::unique_ptr<Node>> children;
};

namespace {

Status invalid(const std::string& message) {
  return Status("ValidationError", message);
}

bool isLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool isIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The functions and how many arguments each takes.
struct FunctionRow {
  std::string_view name;
  size_t minArgs;
  size_t maxArgs;
};
constexpr FunctionRow kFunctions[] = {
    {"SUM", 1, 1},  {"AVG", 1, 1},  {"MIN", 1, 1}, {"MAX", 1, 1},
    {"FILL", 2, 2}, {"RATE", 1, 1}, {"ABS", 1, 1}, {"METRICS", 0, 1},
};

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::unique_ptr<Node>> parseAll() {
    TIDE_ASSIGN_OR_RETURN(auto n, sum());
    skipSpace();
    if (pos_ != text_.size()) {
      return error("unexpected '" + std::string(1, text_[pos_]) + "'");
    }
    return n;
  }
  std::vector<std::string> references;
  bool usesMetrics = false;

private:
  Status error(const std::string& what) const {
    return invalid("Syntax error in expression '" + std::string(text_) + "' at position " +
                   std::to_string(pos_ + 1) + ": " + what);
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
  }
  bool take(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static std::unique_ptr<Node> binary(char op, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->type = Node::Type::Binary;
    n->op = op;
    n->children.push_back(std::move(l));
    n->children.push_back(std::move(r));
    return n;
  }

  // sum := product (('+' | '-') product)*
  Result<std::unique_ptr<Node>> sum() {
    TIDE_ASSIGN_OR_RETURN(auto left, product());
    for (;;) {
      char op = take('+') ? '+' : take('-') ? '-' : 0;
      if (op == 0) {
        return left;
      }
      TIDE_ASSIGN_OR_RETURN(auto right, product());
      left = binary(op, std::move(left), std::move(right));
    }
  }
  // product := unary (('*' | '/') unary)*
  Result<std::unique_ptr<Node>> product() {
    TIDE_ASSIGN_OR_RETURN(auto left, unary());
    for (;;) {
      char op = take('*') ? '*' : take('/') ? '/' : 0;
      if (op == 0) {
        return left;
      }
      TIDE_ASSIGN_OR_RETURN(auto right, unary());
      left = binary(op, std::move(left), std::move(right));
    }
  }
  // unary := '-' unary | power
  Result<std::unique_ptr<Node>> unary() {
    if (take('-')) {
      TIDE_ASSIGN_OR_RETURN(auto operand, unary());
      auto n = std::make_unique<Node>();
      n->type = Node::Type::Negate;
      n->children.push_back(std::move(operand));
      return n;
    }
    return power();
  }
  // power := primary ('^' unary)?   (right-associative)
  Result<std::unique_ptr<Node>> power() {
    TIDE_ASSIGN_OR_RETURN(auto base, primary());
    if (take('^')) {
      TIDE_ASSIGN_OR_RETURN(auto exponent, unary());
      return binary('^', std::move(base), std::move(exponent));
    }
    return base;
  }
  Result<std::unique_ptr<Node>> primary() {
    if (++depth_ > 100) {
      return error("expression nested too deeply");
    }
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    skipSpace();
    if (pos_ >= text_.size()) {
      return error("expected a number, an id, a function or '('");
    }
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      TIDE_ASSIGN_OR_RETURN(auto inner, sum());
      if (!take(')')) {
        return error("expected ')'");
      }
      return inner;
    }
    if (c == '[') {
      ++pos_;
      auto n = std::make_unique<Node>();
      n->type = Node::Type::Array;
      do {
        TIDE_ASSIGN_OR_RETURN(auto item, sum());
        n->children.push_back(std::move(item));
      } while (take(','));
      if (!take(']')) {
        return error("expected ',' or ']'");
      }
      return n;
    }
    if (c == '"') {
      size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) {
        return error("unterminated string");
      }
      auto n = std::make_unique<Node>();
      n->type = Node::Type::String;
      n->text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.')) {
        ++pos_;
      }
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        size_t save = pos_++;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
          ++pos_;
        }
        if (pos_ >= text_.size() || std::isdigit(static_cast<unsigned char>(text_[pos_])) == 0) {
          pos_ = save;
        } else {
          while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
            ++pos_;
          }
        }
      }
      std::string literal(text_.substr(start, pos_ - start));
      char* end = nullptr;
      double v = std::strtod(literal.c_str(), &end);
      if (end != literal.c_str() + literal.size() || !std::isfinite(v)) {
        pos_ = start;
        return error("'" + literal + "' is not a number");
      }
      auto n = std::make_unique<Node>();
      n->number = v;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      size_t start = pos_;
      while (pos_ < text_.size() && isIdChar(text_[pos_])) {
        ++pos_;
      }
      std::string word(text_.substr(start, pos_ - start));
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == '(') {
        ++pos_;
        return call(word, start);
      }
      auto n = std::make_unique<Node>();
      if (word == "REPEAT" || word == "LINEAR") {
        n->type = Node::Type::Keyword;
        n->text = word;
        return n;
      }
      if (!isLower(word[0])) {
        pos_ = start;
        return error("'" + word + "' is neither a query id (those start with a lowercase letter) " +
                     "nor a function call");
      }
      n->type = Node::Type::Id;
      n->text = word;
      if (std::find(references.begin(), references.end(), word) == references.end()) {
        references.push_back(word);
      }
      return n;
    }
    return error("unexpected '" + std::string(1, c) + "'");
  }
  Result<std::unique_ptr<Node>> call(const std::string& name, size_t at) {
    const FunctionRow* row = nullptr;
    for (const FunctionRow& f : kFunctions) {
      if (f.name == name) {
        row = &f;
      }
    }
    if (row == nullptr) {
      pos_ = at;
      return error("unknown function " + name +
                   " (tide knows SUM, AVG, MIN, MAX, FILL, RATE, ABS and METRICS)");
    }
    auto n = std::make_unique<Node>();
    n->type = Node::Type::Call;
    n->text = name;
    if (!take(')')) {
      do {
        TIDE_ASSIGN_OR_RETURN(auto arg, sum());
        n->children.push_back(std::move(arg));
      } while (take(','));
      if (!take(')')) {
        return error("expected ',' or ')'");
      }
    }
    if (n->children.size() < row->minArgs || n->children.size() > row->maxArgs) {
      return error(name + " takes " + std::to_string(row->minArgs) +
                   (row->minArgs == row->maxArgs ? "" : " to " + std::to_string(row->maxArgs)) +
                   " argument" + (row->maxArgs == 1 ? "" : "s") + ", got " +
                   std::to_string(n->children.size()));
    }
    if (name == "METRICS") {
      usesMetrics = true;
      if (!n->children.empty() && n->children[0]->type != Node::Type::String) {
        return error("METRICS takes a string");
      }
    }
    return n;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

Value scalar(double v) {
  Value out;
  out.scalar = v;
  return out;
}
Value single(Series s) {
  Value out;
  out.kind = Value::Kind::Series;
  out.series.push_back(std::move(s));
  return out;
}
Value array(std::vector<Series> s) {
  Value out;
  out.kind = Value::Kind::Array;
  out.series = std::move(s);
  return out;
}

void putFinite(Series& s, TimeMs t, double v) {
  if (std::isfinite(v)) {
    s[t] = v;
  }
}

double apply(char op, double a, double b) {
  switch (op) {
  case '+':
    return a + b;
  case '-':
    return a - b;
  case '*':
    return a * b;
  case '/':
    return a / b;
  default:
    return std::pow(a, b);
  }
}

Series combine(char op, const Series& a, const Series& b) {
  Series out;
  for (const auto& [t, v] : a) {
    auto it = b.find(t);
    if (it != b.end()) {
      putFinite(out, t, apply(op, v, it->second));
    }
  }
  return out;
}

Series withScalar(char op, const Series& s, double k, bool scalarFirst) {
  Series out;
  for (const auto& [t, v] : s) {
    putFinite(out, t, scalarFirst ? apply(op, k, v) : apply(op, v, k));
  }
  return out;
}

// One series operand against a scalar or series one.
Series operate(char op, const Series& a, const Value& b, bool aFirst) {
  if (b.kind == Value::Kind::Scalar) {
    return withScalar(op, a, b.scalar, !aFirst);
  }
  return aFirst ? combine(op, a, b.series[0]) : combine(op, b.series[0], a);
}

Result<Value> binaryOp(char op, const Value& l, const Value& r) {
  using K = Value::Kind;
  if (l.kind == K::Array && r.kind == K::Array) {
    return invalid(std::string("Operator ") + op + " cannot combine two arrays of series");
  }
  if (l.kind == K::Scalar && r.kind == K::Scalar) {
    return scalar(apply(op, l.scalar, r.scalar));
  }
  if (l.kind == K::Array || r.kind == K::Array) {
    const Value& arr = l.kind == K::Array ? l : r;
    const Value& other = l.kind == K::Array ? r : l;
    std::vector<Series> out;
    for (const Series& s : arr.series) {
      out.push_back(operate(op, s, other, l.kind == K::Array));
    }
    return array(std::move(out));
  }
  if (l.kind == K::Series) {
    return single(operate(op, l.series[0], r, true));
  }
  return single(operate(op, r.series[0], l, false));
}

// SUM, AVG, MIN, MAX of values.
double aggregate(const std::string& fn, const std::vector<double>& vs) {
  if (vs.empty()) {
    return std::nan("");
  }
  if (fn == "MIN") {
    return *std::min_element(vs.begin(), vs.end());
  }
  if (fn == "MAX") {
    return *std::max_element(vs.begin(), vs.end());
  }
  double sum = 0;
  for (double v : vs) {
    sum += v;
  }
  return fn == "AVG" ? sum / static_cast<double>(vs.size()) : sum;
}

Value aggregateValue(const std::string& fn, const Value& v) {
  switch (v.kind) {
  case Value::Kind::Scalar:
    return v;
  case Value::Kind::Series: {
    std::vector<double> vs;
    for (const auto& [t, x] : v.series[0]) {
      vs.push_back(x);
    }
    return scalar(aggregate(fn, vs));
  }
  case Value::Kind::Array:
    break;
  }
  std::map<TimeMs, std::vector<double>> byTime;
  for (const Series& s : v.series) {
    for (const auto& [t, x] : s) {
      byTime[t].push_back(x);
    }
  }
  Series out;
  for (const auto& [t, vs] : byTime) {
    putFinite(out, t, aggregate(fn, vs));
  }
  return single(std::move(out));
}

Series fill(const Series& s, const Node& how, double number, const Environment& env) {
  int64_t periodMs = std::max(1, env.periodSeconds) * 1000LL;
  TimeMs first = floorDiv(env.start, periodMs) * periodMs;
  Series out = s;
  if (s.empty() && how.type == Node::Type::Keyword) {
    return out; // nothing to repeat or interpolate from
  }
  for (TimeMs t = first; t < env.end; t += periodMs) {
    if (s.count(t)) {
      continue;
    }
    if (how.type != Node::Type::Keyword) {
      out[t] = number;
      continue;
    }
    auto after = s.lower_bound(t);
    bool hasBefore = after != s.begin();
    auto before = hasBefore ? std::prev(after) : s.end();
    if (how.text == "REPEAT") {
      out[t] = hasBefore ? before->second : after->second;
    } else if (!hasBefore) {
      out[t] = after->second;
    } else if (after == s.end()) {
      out[t] = before->second;
    } else {
      double f = static_cast<double>(t - before->first) /
                 static_cast<double>(after->first - before->first);
      out[t] = before->second + f * (after->second - before->second);
    }
  }
  return out;
}

Series rate(const Series& s) {
  Series out;
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it == s.begin()) {
      continue;
    }
    auto prev = std::prev(it);
    double seconds = static_cast<double>(it->first - prev->first) / 1000.0;
    putFinite(out, it->first, (it->second - prev->second) / seconds);
  }
  return out;
}

// Applies fn to the series of v (one or each of an array). Scalars are refused.
Result<Value> perSeries(const std::string& name, const Value& v,
                        const std::function<Series(const Series&)>& fn) {
  if (v.kind == Value::Kind::Scalar) {
    return invalid(name + " needs a time series or an array of them, not a scalar");
  }
  Value out = v;
  for (Series& s : out.series) {
    s = fn(s);
  }
  return out;
}

Result<Value> eval(const Node& n, const Environment& env) {
  switch (n.type) {
  case Node::Type::Number:
    return scalar(n.number);
  case Node::Type::Id: {
    auto it = env.values.find(n.text);
    if (it == env.values.end()) {
      return invalid("Unrecognized metric identifier '" + n.text + "'");
    }
    return single(it->second);
  }
  case Node::Type::String:
  case Node::Type::Keyword:
    return invalid("'" + n.text + "' is allowed only as an argument of " +
                   (n.type == Node::Type::String ? "METRICS" : "FILL"));
  case Node::Type::Array: {
    std::vector<Series> out;
    for (const auto& c : n.children) {
      TIDE_ASSIGN_OR_RETURN(Value v, eval(*c, env));
      if (v.kind != Value::Kind::Series) {
        return invalid("An array holds time series only");
      }
      out.push_back(std::move(v.series[0]));
    }
    return array(std::move(out));
  }
  case Node::Type::Negate: {
    TIDE_ASSIGN_OR_RETURN(Value v, eval(*n.children[0], env));
    return binaryOp('*', v, scalar(-1));
  }
  case Node::Type::Binary: {
    TIDE_ASSIGN_OR_RETURN(Value l, eval(*n.children[0], env));
    TIDE_ASSIGN_OR_RETURN(Value r, eval(*n.children[1], env));
    return binaryOp(n.op, l, r);
  }
  case Node::Type::Call:
    break;
  }
  const std::string& fn = n.text;
  if (fn == "METRICS") {
    std::vector<Series> out;
    for (const std::string& id : env.metricIds) {
      if (!n.children.empty() && id.find(n.children[0]->text) == std::string::npos) {
        continue;
      }
      auto it = env.values.find(id);
      if (it != env.values.end()) {
        out.push_back(it->second);
      }
    }
    return array(std::move(out));
  }
  if (fn == "FILL") {
    TIDE_ASSIGN_OR_RETURN(Value v, eval(*n.children[0], env));
    const Node& how = *n.children[1];
    double number = 0;
    if (how.type != Node::Type::Keyword) {
      TIDE_ASSIGN_OR_RETURN(Value k, eval(how, env));
      if (k.kind != Value::Kind::Scalar) {
        return invalid("FILL's second argument must be a number, REPEAT or LINEAR");
      }
      number = k.scalar;
    }
    return perSeries(fn, v, [&](const Series& s) { return fill(s, how, number, env); });
  }
  TIDE_ASSIGN_OR_RETURN(Value v, eval(*n.children[0], env));
  if (fn == "RATE") {
    return perSeries(fn, v, rate);
  }
  if (fn == "ABS") {
    if (v.kind == Value::Kind::Scalar) {
      return scalar(std::fabs(v.scalar));
    }
    return perSeries(fn, v, [](const Series& s) {
      Series out;
      for (const auto& [t, x] : s) {
        out[t] = std::fabs(x);
      }
      return out;
    });
  }
  return aggregateValue(fn, v); // SUM, AVG, MIN, MAX
}

} // namespace

Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

Result<Expression> Expression::parse(std::string_view text) {
  if (text.empty() || text.size() > 2048) {
    return invalid("An expression must be 1 to 2048 characters long");
  }
  Parser p(text);
  TIDE_ASSIGN_OR_RETURN(auto root, p.parseAll());
  Expression e;
  e.root_ = std::move(root);
  e.references_ = std::move(p.references);
  e.usesMetrics_ = p.usesMetrics;
  return e;
}

Result<Value> Expression::evaluate(const Environment& env) const {
  return eval(*root_, env);
}

bool isValidQueryId(std::string_view id) {
  return !id.empty() && id.size() <= 255 && isLower(id[0]) &&
         std::all_of(id.begin(), id.end(), isIdChar);
}

} // namespace tide::metrics::math
