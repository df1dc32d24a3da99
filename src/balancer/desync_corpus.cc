#include "balancer/desync_corpus.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

namespace tide::balancer::testing {
namespace {

constexpr const char* kFiles[] = {
    "single-case.yaml",          "edge-cases.yaml", "rfc-compliant.yaml",
    "acceptable.yaml",           "ambiguous.yaml",  "bad-header-characters.yaml",
    "more-compliant-tests.yaml", "severe.yaml",     "uri-specific-test-cases.yaml",
    "real-life-test-cases.yaml",
};

int hexDigit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : 0;
}

// The corpus's own second unescaping pass over every string (after YAML's): \xHH, \b, \f, \n,
// \r, \t, and a backslash before anything else stands for that character.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
    case 'x': {
      int v = 0;
      for (int k = 0; k < 2 && i + 1 < s.size(); ++k) {
        v = v * 16 + hexDigit(s[++i]);
      }
      out += char(v);
      break;
    }
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    default:
      out += e;
    }
  }
  return out;
}

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? unescape(n.as<std::string>()) : std::string();
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = char(tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) {
    return "";
  }
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

} // namespace

std::string CorpusCase::head() const {
  std::string h = method + " " + uri + " " + version + "\r\n";
  for (const CorpusHeader& f : headers) {
    h += f.name + ": " + f.value + "\r\n";
  }
  return h + "\r\n";
}

std::string CorpusCase::body() const {
  for (const CorpusHeader& f : headers) {
    std::string v = lower(trimmed(f.value));
    if (lower(f.name) == "transfer-encoding" && v.size() >= 7 &&
        v.compare(v.size() - 7, 7, "chunked") == 0) {
      return "0\r\n\r\n";
    }
  }
  for (const CorpusHeader& f : headers) {
    std::string v = trimmed(f.value);
    if (lower(f.name) == "content-length" && !v.empty() && v.size() < 9 &&
        v.find_first_not_of("0123456789") == std::string::npos) {
      return std::string(std::stoul(v), 'x');
    }
  }
  return "";
}

std::string corpusDirectory() {
  if (const char* env = std::getenv("TIDE_DESYNC_CORPUS"); env && *env) {
    return env;
  }
  return TIDE_DESYNC_CORPUS_DIR;
}

bool loadCorpus(std::vector<CorpusCase>* cases, std::string* error) {
  std::filesystem::path dir = corpusDirectory();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    *error = "the http-desync-guardian corpus is not at " + dir.string() +
             " (set TIDE_DESYNC_CORPUS to where it is)";
    return false;
  }
  for (const char* file : kFiles) {
    YAML::Node doc;
    try {
      doc = YAML::LoadFile((dir / file).string());
    } catch (const std::exception& e) {
      *error = std::string(file) + ": " + e.what();
      return false;
    }
    for (const YAML::Node& n : doc) {
      CorpusCase c;
      c.file = file;
      c.name = n["name"].as<std::string>();
      c.method = scalar(n["method"]);
      c.uri = scalar(n["uri"]);
      c.version = scalar(n["version"]);
      if (n["headers"] && n["headers"].IsSequence()) {
        for (const YAML::Node& h : n["headers"]) {
          c.headers.push_back({scalar(h["name"]), scalar(h["value"])});
        }
      }
      c.tier = scalar(n["expected"]["tier"]);
      c.reason = scalar(n["expected"]["reason"]);
      if (n["expected"]["required_message_items"]) {
        for (const YAML::Node& m : n["expected"]["required_message_items"]) {
          c.messageItems.push_back(scalar(m));
        }
      }
      cases->push_back(std::move(c));
    }
  }
  return true;
}

} // namespace tide::balancer::testing
