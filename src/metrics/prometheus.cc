#include "metrics/prometheus.h"

#include "metrics/units.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace tide::metrics {
namespace {

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool isLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

struct UnitRow {
  std::string_view unit;
  std::string_view suffix; // appended to the name
  double scale;            // multiplies the value
  bool adds;               // a second's values add up: the Sum is shown, else the Average
};
constexpr std::array kUnits{
    UnitRow{"Seconds", "_seconds", 1, false},
    UnitRow{"Milliseconds", "_seconds", 1e-3, false},
    UnitRow{"Microseconds", "_seconds", 1e-6, false},
    UnitRow{"Bytes", "_bytes", 1, true},
    UnitRow{"Kilobytes", "_bytes", 1e3, true},
    UnitRow{"Megabytes", "_bytes", 1e6, true},
    UnitRow{"Gigabytes", "_bytes", 1e9, true},
    UnitRow{"Terabytes", "_bytes", 1e12, true},
    UnitRow{"Bits", "_bits", 1, true},
    UnitRow{"Kilobits", "_bits", 1e3, true},
    UnitRow{"Megabits", "_bits", 1e6, true},
    UnitRow{"Gigabits", "_bits", 1e9, true},
    UnitRow{"Terabits", "_bits", 1e12, true},
    UnitRow{"Percent", "_percent", 1, false},
    UnitRow{"Count", "", 1, true},
    UnitRow{"Bytes/Second", "_bytes_per_second", 1, false},
    UnitRow{"Kilobytes/Second", "_bytes_per_second", 1e3, false},
    UnitRow{"Megabytes/Second", "_bytes_per_second", 1e6, false},
    UnitRow{"Gigabytes/Second", "_bytes_per_second", 1e9, false},
    UnitRow{"Terabytes/Second", "_bytes_per_second", 1e12, false},
    UnitRow{"Bits/Second", "_bits_per_second", 1, false},
    UnitRow{"Kilobits/Second", "_bits_per_second", 1e3, false},
    UnitRow{"Megabits/Second", "_bits_per_second", 1e6, false},
    UnitRow{"Gigabits/Second", "_bits_per_second", 1e9, false},
    UnitRow{"Terabits/Second", "_bits_per_second", 1e12, false},
    UnitRow{"Count/Second", "_per_second", 1, false},
};
constexpr UnitRow kNoUnit{"None", "", 1, true};

const UnitRow& unitRow(std::string_view unit) {
  for (const UnitRow& r : kUnits) {
    if (r.unit == unit) {
      return r;
    }
  }
  return kNoUnit;
}

// Dimension names with the label Prometheus users know them by.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kLabelNames{{
    {"AutoScalingGroupName", "auto_scaling_group"},
    {"LoadBalancer", "load_balancer"},
}};

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string formatNumber(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // The shortest of 15..17 digits that reads back as the same double.
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) {
      break;
    }
  }
  return buf;
}

// A bound as le: always with a decimal point ("1.0"), as OpenMetrics wants it canonical.
std::string formatBound(double v) {
  std::string s = formatNumber(v);
  if (s.find_first_of(".eEI") == std::string::npos) {
    s += ".0";
  }
  return s;
}

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view v, ExpositionFormat format) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && format == ExpositionFormat::OpenMetrics) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string labelText(const Labels& labels, const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && extra == nullptr) {
    return "";
  }
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += k;
    out += "=\"";
    out += escapeLabelValue(v);
    out += '"';
  };
  for (const auto& [k, v] : labels) {
    add(k, v);
  }
  if (extra != nullptr) {
    add(extra->first, extra->second);
  }
  out += '}';
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type, ExpositionFormat format) {
  out += "# HELP " + name + " " + escapeHelp(help, format) + "\n";
  out += "# TYPE " + name + " ";
  out += type;
  out += "\n";
}

} // namespace

ExpositionFormat negotiateExposition(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos
             ? ExpositionFormat::OpenMetrics
             : ExpositionFormat::Text;
}

std::string_view expositionContentType(ExpositionFormat format) {
  return format == ExpositionFormat::OpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

std::string snakeCase(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (isUpper(c)) {
      // A word starts at an upper-case letter after a lower-case one ("requestCount"), or at
      // the last upper-case letter of a run followed by a lower-case one ("HTTPCode").
      bool afterLower = i > 0 && isLower(name[i - 1]);
      bool endsRun = i > 0 && isUpper(name[i - 1]) && i + 1 < name.size() && isLower(name[i + 1]);
      if ((afterLower || endsRun) && !out.empty() && out.back() != '_') {
        out += '_';
      }
      out += static_cast<char>(c - 'A' + 'a');
    } else if (isLower(c) || isDigit(c)) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') {
    out.pop_back();
  }
  if (out.empty() || isDigit(out.front())) {
    out.insert(0, "x_");
  }
  return out;
}

std::string prometheusName(std::string_view namespace_, std::string_view metricName,
                           std::string_view unit) {
  std::string name = "tide_" + snakeCase(namespace_) + "_" + snakeCase(metricName);
  const UnitRow& row = unitRow(unit);
  if (!row.suffix.empty() && !endsWith(name, row.suffix)) {
    name += row.suffix;
  }
  for (std::string_view reserved : {"_count", "_sum", "_bucket", "_total"}) {
    if (endsWith(name, reserved)) {
      name += "_value";
      break;
    }
  }
  return name;
}

std::string prometheusLabel(std::string_view dimensionName) {
  for (const auto& [dimension, label] : kLabelNames) {
    if (dimension == dimensionName) {
      return std::string(label);
    }
  }
  std::string label = snakeCase(dimensionName);
  if (label.rfind("__", 0) == 0) {
    label.insert(0, "x"); // names starting with __ are Prometheus's own
  }
  return label;
}

std::vector<GaugeFamily> cloudWatchGauges(const std::vector<LatestValue>& latest) {
  std::map<std::string, GaugeFamily> families;
  std::set<std::pair<std::string, Labels>> seen;
  for (const LatestValue& v : latest) {
    std::string_view unit = unitFor(v.metric.namespace_, v.metric.metricName);
    const UnitRow& row = unitRow(unit);
    std::string name = prometheusName(v.metric.namespace_, v.metric.metricName, unit);
    Labels labels;
    for (const auto& [dimension, value] : v.metric.dimensions) {
      labels.emplace_back(prometheusLabel(dimension), value);
    }
    std::sort(labels.begin(), labels.end());
    bool duplicateLabel = std::adjacent_find(labels.begin(), labels.end(), [](auto& a, auto& b) {
                            return a.first == b.first;
                          }) != labels.end();
    if (duplicateLabel || !seen.insert({name, labels}).second) {
      continue;
    }
    GaugeFamily& f = families[name];
    if (f.name.empty()) {
      f.name = name;
      f.help = "CloudWatch " + v.metric.namespace_ + " " + v.metric.metricName + " (" +
               std::string(unit) + "): the " + (row.adds ? "Sum" : "Average") +
               " of the latest complete second";
    }
    double value = row.adds ? v.sum : v.sum / v.sampleCount;
    f.samples.push_back(GaugeSample{std::move(labels), value * row.scale});
  }
  std::vector<GaugeFamily> out;
  out.reserve(families.size());
  for (auto& [name, f] : families) {
    out.push_back(std::move(f));
  }
  return out;
}

std::string renderExposition(const Exposition& exposition, ExpositionFormat format) {
  std::string out;
  for (const GaugeFamily& f : exposition.gauges) {
    if (f.samples.empty()) {
      continue;
    }
    header(out, f.name, f.help, "gauge", format);
    for (const GaugeSample& s : f.samples) {
      out += f.name + labelText(s.labels, nullptr) + " " + formatNumber(s.value) + "\n";
    }
  }
  for (const HistogramFamily& f : exposition.histograms) {
    if (f.samples.empty()) {
      continue;
    }
    header(out, f.name, f.help, "histogram", format);
    for (const HistogramSample& s : f.samples) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < s.bounds.size(); ++i) {
        cumulative += i < s.counts.size() ? s.counts[i] : 0;
        std::pair<std::string, std::string> le{"le", formatBound(s.bounds[i])};
        out += f.name + "_bucket" + labelText(s.labels, &le) + " " +
               formatNumber(double(cumulative)) + "\n";
      }
      cumulative += s.overflow;
      std::pair<std::string, std::string> inf{"le", "+Inf"};
      out += f.name + "_bucket" + labelText(s.labels, &inf) + " " +
             formatNumber(double(cumulative)) + "\n";
      out += f.name + "_sum" + labelText(s.labels, nullptr) + " " + formatNumber(s.sum) + "\n";
      out += f.name + "_count" + labelText(s.labels, nullptr) + " " +
             formatNumber(double(cumulative)) + "\n";
    }
  }
  if (format == ExpositionFormat::OpenMetrics) {
    out += "# EOF\n";
  }
  return out;
}

} // namespace tide::metrics
