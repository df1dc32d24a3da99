#include "balancer/rules.h"

#include "balancer/local_response.h"
#include "http1/serializer.h"

#include <arpa/inet.h>

namespace tide::balancer {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = lower(c);
  }
  return out;
}

bool equalsFolded(std::string_view lowerName, std::string_view name) {
  if (lowerName.size() != name.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (lowerName[i] != lower(name[i])) {
      return false;
    }
  }
  return true;
}

// The parts of the request target: path (origin-form, or absolute-form without scheme and
// authority) and query (without "?").
struct TargetParts {
  std::string_view path;
  std::string_view query;
};

TargetParts splitTarget(std::string_view target) {
  if (!target.empty() && target[0] != '/') {
    size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      size_t slash = target.find('/', scheme + 3);
      size_t q = target.find('?', scheme + 3);
      size_t end = std::min(slash, q);
      target = end == std::string_view::npos ? std::string_view("/") : target.substr(end);
    }
  }
  TargetParts p;
  size_t q = target.find('?');
  p.path = target.substr(0, q);
  if (q != std::string_view::npos) {
    p.query = target.substr(q + 1);
  }
  if (p.path.empty()) {
    p.path = "/";
  }
  return p;
}

bool anyMatches(const std::vector<SplitPattern>& patterns, std::string_view text, bool foldCase) {
  for (const SplitPattern& p : patterns) {
    if (splitMatch(p, text, foldCase)) {
      return true;
    }
  }
  return false;
}

bool queryMatches(const PreparedCondition& c, std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    for (const auto& [k, v] : c.query) {
      if ((k.text.empty() || splitMatch(k, key, true)) && splitMatch(v, value, true)) {
        return true;
      }
    }
  }
  return false;
}

bool conditionMatches(const PreparedCondition& c, const MessageHead& h, const TargetParts& t,
                      uint32_t client) {
  switch (c.field) {
  case RuleCondition::Field::HostHeader:
    return anyMatches(c.patterns, hostOf(h), true);
  case RuleCondition::Field::PathPattern:
    return anyMatches(c.patterns, t.path, false);
  case RuleCondition::Field::HttpHeader:
    for (size_t i = 0; i < h.fieldCount; ++i) {
      if (equalsFolded(c.headerName, h.fields[i].name) &&
          anyMatches(c.patterns, h.fields[i].value, true)) {
        return true;
      }
    }
    return false;
  case RuleCondition::Field::HttpRequestMethod:
    for (const SplitPattern& m : c.patterns) {
      if (m.text == h.method) {
        return true;
      }
    }
    return false;
  case RuleCondition::Field::QueryString:
    return queryMatches(c, t.query);
  case RuleCondition::Field::SourceIp:
    for (const auto& [net, mask] : c.cidrs) {
      if ((client & mask) == net) {
        return true;
      }
    }
    return false;
  }
  return false;
}

bool parseCidr(std::string_view text, uint32_t& net, uint32_t& mask) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash > 15) {
    return false;
  }
  char ip[16] = {};
  text.substr(0, slash).copy(ip, slash);
  in_addr a{};
  if (inet_pton(AF_INET, ip, &a) != 1) {
    return false;
  }
  std::string_view bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 2) {
    return false;
  }
  int n = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') {
      return false;
    }
    n = n * 10 + (c - '0');
  }
  if (n > 32) {
    return false;
  }
  mask = n == 0 ? 0 : ~uint32_t(0) << (32 - n);
  net = ntohl(a.s_addr) & mask;
  return true;
}

void appendReplaced(std::string& out, std::string_view part, std::string_view host,
                    std::string_view port, std::string_view path, std::string_view query,
                    std::string_view protocol) {
  while (!part.empty()) {
    size_t open = part.find("#{");
    out.append(part.substr(0, open));
    if (open == std::string_view::npos) {
      return;
    }
    part = part.substr(open);
    size_t close = part.find('}');
    if (close == std::string_view::npos) {
      out.append(part);
      return;
    }
    std::string_view token = part.substr(2, close - 2);
    if (token == "protocol") {
      out.append(protocol);
    } else if (token == "host") {
      out.append(host);
    } else if (token == "port") {
      out.append(port);
    } else if (token == "path") {
      out.append(path);
    } else if (token == "query") {
      out.append(query);
    } else {
      out.append(part.substr(0, close + 1));
    }
    part = part.substr(close + 1);
  }
}

} // namespace

bool wildcardMatch(std::string_view pattern, std::string_view text, bool foldCase) {
  size_t p = 0, t = 0;
  size_t starP = std::string_view::npos, starT = 0;
  while (t < text.size()) {
    char c = foldCase ? lower(text[t]) : text[t];
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == c)) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starT = t;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

SplitPattern splitPattern(std::string pattern) {
  SplitPattern p;
  p.text = std::move(pattern);
  const std::string& t = p.text;
  p.hasStar = t.find('*') != std::string::npos;
  p.starFirst = !t.empty() && t.front() == '*';
  p.starLast = !t.empty() && t.back() == '*';
  size_t begin = 0;
  while (begin <= t.size()) {
    size_t star = t.find('*', begin);
    size_t end = star == std::string::npos ? t.size() : star;
    if (end > begin) {
      p.runs.emplace_back(static_cast<uint32_t>(begin), static_cast<uint32_t>(end - begin));
    }
    if (star == std::string::npos) {
      break;
    }
    begin = star + 1;
  }
  return p;
}

namespace {
// Whether the run matches text at `at` ("?" matches any one character).
bool runAt(std::string_view run, std::string_view text, size_t at, bool foldCase) {
  for (size_t j = 0; j < run.size(); ++j) {
    char c = foldCase ? lower(text[at + j]) : text[at + j];
    if (run[j] != '?' && run[j] != c) {
      return false;
    }
  }
  return true;
}
} // namespace

bool splitMatch(const SplitPattern& p, std::string_view text, bool foldCase) {
  std::string_view t = p.text;
  if (!p.hasStar) {
    return t.size() == text.size() && runAt(t, text, 0, foldCase);
  }
  size_t first = 0, last = p.runs.size(); // runs still to place: [first, last)
  size_t pos = 0, end = text.size();      // where they may go
  if (!p.starFirst) {
    std::string_view run = t.substr(p.runs[0].first, p.runs[0].second);
    if (run.size() > text.size() || !runAt(run, text, 0, foldCase)) {
      return false;
    }
    pos = run.size();
    first = 1;
  }
  if (!p.starLast && last > first) {
    std::string_view run = t.substr(p.runs[last - 1].first, p.runs[last - 1].second);
    if (run.size() > end - pos || !runAt(run, text, end - run.size(), foldCase)) {
      return false;
    }
    end -= run.size();
    --last;
  }
  // The runs between stars, each at its leftmost place: that leaves the most room for the rest.
  for (size_t i = first; i < last; ++i) {
    std::string_view run = t.substr(p.runs[i].first, p.runs[i].second);
    size_t at = pos;
    while (at + run.size() <= end && !runAt(run, text, at, foldCase)) {
      ++at;
    }
    if (at + run.size() > end) {
      return false;
    }
    pos = at + run.size();
  }
  return true;
}

Result<PreparedAction> prepareAction(const Action& a, size_t groupCount, uint32_t& nextCounter) {
  PreparedAction out;
  out.action = &a;
  switch (a.kind) {
  case Action::Kind::Forward: {
    if (a.weightedGroups.empty()) {
      if (a.targetGroup >= groupCount) {
        return validationError("forward action: no target group at index " +
                               std::to_string(a.targetGroup));
      }
      break;
    }
    if (a.weightedGroups.size() > 5) {
      return validationError("forward action: more than 5 target groups");
    }
    uint32_t total = 0;
    for (const WeightedTargetGroup& g : a.weightedGroups) {
      if (g.targetGroup >= groupCount) {
        return validationError("forward action: no target group at index " +
                               std::to_string(g.targetGroup));
      }
      if (g.weight > 999) {
        return validationError("forward action: weight above 999");
      }
      total += g.weight;
    }
    if (total == 0) {
      return validationError("forward action: every target group has weight 0");
    }
    // Smooth weighted round robin (as nginx does) over one cycle: each group gets its weight's
    // share of turns, spread out rather than in runs.
    std::vector<int64_t> current(a.weightedGroups.size(), 0);
    out.schedule.reserve(total);
    for (uint32_t turn = 0; turn < total; ++turn) {
      size_t best = 0;
      for (size_t i = 0; i < current.size(); ++i) {
        current[i] += a.weightedGroups[i].weight;
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      out.schedule.push_back(a.weightedGroups[best].targetGroup);
    }
    out.counter = nextCounter++ % kWeightedCounters;
    break;
  }
  case Action::Kind::FixedResponse: {
    const FixedResponse& f = a.fixedResponse;
    if (f.statusCode < 200 || f.statusCode > 599) {
      return validationError("fixed response status must be within 200..599");
    }
    if (f.contentType.find_first_of("\r\n") != std::string::npos) {
      return validationError("fixed response content type has a line break");
    }
    out.fixedHeadKeepAlive = fixedResponseHead(f.statusCode, f.contentType, f.body.size(), false);
    out.fixedHeadClose = fixedResponseHead(f.statusCode, f.contentType, f.body.size(), true);
    break;
  }
  case Action::Kind::Redirect: {
    const Redirect& r = a.redirect;
    if (r.statusCode != 301 && r.statusCode != 302) {
      return validationError("redirect status must be 301 or 302");
    }
    for (const std::string* part : {&r.protocol, &r.host, &r.port, &r.path, &r.query}) {
      for (char c : *part) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
          return validationError("redirect: control character or space in a part");
        }
      }
    }
    break;
  }
  }
  return out;
}

Result<PreparedRule> prepareRule(const Rule& rule, size_t groupCount, uint32_t& nextCounter) {
  PreparedRule out;
  out.rule = &rule;
  if (rule.conditions.empty()) {
    return validationError("rule " + std::to_string(rule.priority) + ": no conditions");
  }
  for (const RuleCondition& c : rule.conditions) {
    PreparedCondition pc;
    pc.field = c.field;
    switch (c.field) {
    case RuleCondition::Field::HostHeader:
    case RuleCondition::Field::HttpHeader:
      for (const std::string& v : c.values) {
        pc.patterns.push_back(splitPattern(lowered(v)));
      }
      pc.headerName = lowered(c.headerName);
      if (c.field == RuleCondition::Field::HttpHeader && pc.headerName.empty()) {
        return validationError("rule " + std::to_string(rule.priority) +
                               ": http-header condition without a header name");
      }
      break;
    case RuleCondition::Field::PathPattern:
    case RuleCondition::Field::HttpRequestMethod:
      for (const std::string& v : c.values) {
        pc.patterns.push_back(splitPattern(v));
      }
      break;
    case RuleCondition::Field::QueryString:
      for (const auto& [k, v] : c.queryValues) {
        pc.query.emplace_back(splitPattern(lowered(k)), splitPattern(lowered(v)));
      }
      break;
    case RuleCondition::Field::SourceIp:
      for (const std::string& v : c.values) {
        uint32_t net = 0, mask = 0;
        if (!parseCidr(v, net, mask)) {
          return validationError("rule " + std::to_string(rule.priority) + ": '" + v +
                                 "' is not an IPv4 CIDR");
        }
        pc.cidrs.emplace_back(net, mask);
      }
      break;
    }
    out.conditions.push_back(std::move(pc));
  }
  auto action = prepareAction(rule.action, groupCount, nextCounter);
  if (!action) {
    return Status(action.status().code(),
                  "rule " + std::to_string(rule.priority) + ": " + action.status().message());
  }
  out.action = std::move(*action);
  out.action.priority = rule.priority;
  return out;
}

const PreparedAction* matchRules(const std::vector<PreparedRule>& rules, const MessageHead& head,
                                 uint32_t clientAddress) {
  if (rules.empty()) {
    return nullptr;
  }
  TargetParts t = splitTarget(head.target);
  for (const PreparedRule& r : rules) {
    bool all = true;
    for (const PreparedCondition& c : r.conditions) {
      if (!conditionMatches(c, head, t, clientAddress)) {
        all = false;
        break;
      }
    }
    if (all) {
      return &r.action;
    }
  }
  return nullptr;
}

std::string redirectLocation(const Redirect& r, const MessageHead& head, uint16_t listenerPort,
                             bool https) {
  std::string_view scheme = https ? "https" : "http";
  TargetParts t = splitTarget(head.target);
  std::string_view host = hostOf(head);
  std::string port = std::to_string(listenerPort);
  std::string_view path = t.path.substr(t.path.empty() || t.path[0] != '/' ? 0 : 1);
  std::string protocol;
  appendReplaced(protocol, r.protocol, host, port, path, t.query, scheme);
  protocol = lowered(protocol);
  std::string out = protocol + "://";
  appendReplaced(out, r.host, host, port, path, t.query, scheme);
  std::string p;
  appendReplaced(p, r.port, host, port, path, t.query, scheme);
  if (!((protocol == "http" && p == "80") || (protocol == "https" && p == "443"))) {
    out += ":" + p;
  }
  appendReplaced(out, r.path, host, port, path, t.query, scheme);
  std::string q;
  appendReplaced(q, r.query, host, port, path, t.query, scheme);
  if (!q.empty()) {
    out += "?" + q;
  }
  return out;
}

std::string redirectResponse(int statusCode, std::string_view location, bool close) {
  std::string out;
  http1::appendStatusLine(out, statusCode == 302 ? 302 : 301);
  http1::appendField(out, "Server", "tide");
  http1::appendField(out, "Location", location);
  http1::appendField(out, "Content-Length", "0");
  if (close) {
    http1::appendField(out, "Connection", "close");
  }
  http1::appendHeadEnd(out);
  return out;
}

std::string_view hostOf(const MessageHead& h) {
  for (size_t i = 0; i < h.fieldCount; ++i) {
    if (h.fields[i].kind == http1::HeaderKind::Host) {
      std::string_view v = h.fields[i].value;
      size_t end = !v.empty() && v[0] == '[' ? v.find(']') : v.find(':');
      if (end != std::string_view::npos && v[0] == '[') {
        ++end; // keep an IPv6 literal's brackets
      }
      return v.substr(0, end);
    }
  }
  return {};
}

} // namespace tide::balancer
