// Test support: the http-desync-guardian corpus (../shared/corpora/http-desync-guardian, or
// $TIDE_DESYNC_CORPUS), read as it is. Each case is a request (method, URI, version, headers)
// with the tier, reason and message items a desync-aware proxy must give it.
#pragma once

#include <string>
#include <vector>

namespace tide::balancer::testing {

struct CorpusHeader {
  std::string name;
  std::string value;
};

struct CorpusCase {
  std::string file; // e.g. "severe.yaml"
  std::string name; // the case's name
  std::string method;
  std::string uri;
  std::string version;
  std::vector<CorpusHeader> headers;
  std::string tier;                      // Compliant, Acceptable, Ambiguous, Severe
  std::string reason;                    // a DesyncReason name
  std::vector<std::string> messageItems; // substrings of the message (case-insensitive)

  // The request as bytes: "METHOD URI VERSION\r\n" + "name: value\r\n"... + "\r\n".
  std::string head() const;
  // A body for the framing the headers ask for ("0\r\n\r\n" when a Transfer-Encoding ends in
  // chunked, N bytes for a Content-Length N), or "".
  std::string body() const;
};

// Where the corpus is: $TIDE_DESYNC_CORPUS, else the path compiled in.
std::string corpusDirectory();

// Loads every file of the corpus. Returns false (and why in *error) when it is absent or broken.
bool loadCorpus(std::vector<CorpusCase>* cases, std::string* error);

} // namespace tide::balancer::testing
