// The desync classifier against every case of the http-desync-guardian corpus: the raw request
// is parsed by parseRequestHead, and the tier, reason and message must be the corpus's.
#include "balancer/desync.h"
#include "balancer/desync_corpus.h"
#include "http1/parser.h"

#include <gtest/gtest.h>

#include <memory>

namespace tide::balancer {
namespace {

using http1::BodyFraming;
using http1::HeaderKind;
using http1::parseRequestHead;
using http1::ParseStatus;
using testing::CorpusCase;

std::string lowerCase(std::string s) {
  for (char& c : s) {
    c = char(tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// What is wrong with the classification of one case, or "".
std::string check(const CorpusCase& c) {
  std::string raw = c.head();
  auto head = std::make_unique<MessageHead>();
  ParseStatus st = parseRequestHead(raw.data(), raw.size(), 64 * 1024, *head);
  if (st != ParseStatus::Complete && st != ParseStatus::Invalid) {
    return "parse status " + std::to_string(int(st));
  }
  const DesyncVerdict& v = head->desync;
  std::string message = describeDesync(*head);
  std::string problems;
  if (desyncTierName(v.tier) != c.tier) {
    problems += " tier " + std::string(desyncTierName(v.tier)) + " (want " + c.tier + ")";
  }
  if (desyncReasonName(v.reason) != c.reason) {
    problems += " reason " + std::string(desyncReasonName(v.reason)) + " (want " + c.reason + ")";
  }
  for (const std::string& item : c.messageItems) {
    if (lowerCase(message).find(lowerCase(item)) == std::string::npos) {
      problems += " message lacks '" + item + "'";
    }
  }
  // Invalid only when tide cannot frame it or RFC 9112 says to reject it (the corpus's
  // requests have no Host, so every HTTP/1.1 one is malformed here), and then never forwarded
  // in any mode.
  if ((st == ParseStatus::Invalid) != (v.unframeable || v.malformed)) {
    problems += " Invalid without unframeable or malformed";
  }
  if (v.unframeable && c.tier != "Severe" && c.tier != "Ambiguous") {
    problems += " unframeable but " + c.tier;
  }
  return problems.empty() ? "" : problems + " -- message: " + message;
}

TEST(DesyncCorpus, EveryCaseClassifiedAsTheCorpusSays) {
  std::vector<CorpusCase> cases;
  std::string error;
  if (!testing::loadCorpus(&cases, &error)) {
    GTEST_SKIP() << error;
  }
  ASSERT_GT(cases.size(), 100u);
  int failed = 0;
  for (const CorpusCase& c : cases) {
    std::string problems = check(c);
    if (!problems.empty()) {
      ++failed;
      ADD_FAILURE() << c.file << ": " << c.name << ":" << problems;
    }
  }
  EXPECT_EQ(failed, 0) << "of " << cases.size() << " cases";
}

// The mode table: AWS's, plus "never forward what tide cannot frame".
TEST(DesyncMode, Table) {
  using A = DesyncAction;
  using M = DesyncMitigationMode;
  auto verdict = [](DesyncTier t, bool normalized = true, bool framed = true) {
    DesyncVerdict v;
    v.tier = t;
    v.notNormalized = !normalized;
    v.unframeable = !framed;
    return v;
  };
  EXPECT_EQ(desyncAction(M::Monitor, verdict(DesyncTier::Severe)), A::Forward);
  EXPECT_EQ(desyncAction(M::Monitor, verdict(DesyncTier::Severe, true, false)), A::Block);
  EXPECT_EQ(desyncAction(M::Defensive, verdict(DesyncTier::Compliant)), A::Forward);
  EXPECT_EQ(desyncAction(M::Defensive, verdict(DesyncTier::Acceptable)), A::Forward);
  EXPECT_EQ(desyncAction(M::Defensive, verdict(DesyncTier::Ambiguous)), A::ForwardThenClose);
  EXPECT_EQ(desyncAction(M::Defensive, verdict(DesyncTier::Ambiguous, false)), A::Block);
  EXPECT_EQ(desyncAction(M::Defensive, verdict(DesyncTier::Severe)), A::Block);
  EXPECT_EQ(desyncAction(M::Strictest, verdict(DesyncTier::Compliant)), A::Forward);
  EXPECT_EQ(desyncAction(M::Strictest, verdict(DesyncTier::Acceptable)), A::Block);
  EXPECT_EQ(desyncAction(M::Strictest, verdict(DesyncTier::Ambiguous)), A::Block);
  EXPECT_EQ(parseDesyncMitigationMode("strictest"), M::Strictest);
  EXPECT_EQ(parseDesyncMitigationMode("Defensive"), std::nullopt);
}

// Normalization: what makes a request ambiguous is not forwarded.
TEST(DesyncNormalization, AmbiguousFramingFieldsAreRemoved) {
  auto head = std::make_unique<MessageHead>();
  std::string raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 5\r\nContent_Length: 5\r\n\r\n";
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Complete);
  EXPECT_EQ(head->desync.tier, DesyncTier::Ambiguous);
  EXPECT_EQ(head->framing, BodyFraming::Chunked);
  EXPECT_FALSE(head->fields[1].hopByHop); // Transfer-Encoding stays
  EXPECT_TRUE(head->fields[2].hopByHop);  // Content-Length goes
  EXPECT_TRUE(head->fields[3].hopByHop);  // the look-alike goes
  raw = "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n";
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Complete);
  EXPECT_EQ(head->desync.reason, DesyncReason::DuplicateContentLength);
  EXPECT_EQ(head->contentLength, 3u);
  EXPECT_FALSE(head->fields[1].hopByHop);
  EXPECT_TRUE(head->fields[2].hopByHop);
}

// A look-alike with a NUL is Severe, and still removed from what would be forwarded: a
// receiver that stops at the NUL would read it as the framing header (found by fuzzing). A NUL
// in a name is also malformed (RFC 9110 §5.1), so the request is refused in every mode.
TEST(DesyncNormalization, LookalikeWithNulIsRemoved) {
  auto head = std::make_unique<MessageHead>();
  std::string raw("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\0: chunked\r\n"
                  "Transfer_Encoding: chu\0nked\r\nContent-Length: 5\r\n\r\n",
                  105);
  ASSERT_EQ(raw.size(), 105u);
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Invalid);
  EXPECT_TRUE(head->desync.malformed);
  EXPECT_EQ(head->desync.tier, DesyncTier::Severe);
  EXPECT_EQ(head->desync.reason, DesyncReason::BadHeader);
  EXPECT_EQ(desyncAction(DesyncMitigationMode::Monitor, head->desync), DesyncAction::Block);
  EXPECT_EQ(head->framing, BodyFraming::ContentLength);
  EXPECT_EQ(head->fields[1].lookalike, HeaderKind::TransferEncoding);
  EXPECT_TRUE(head->fields[1].hopByHop);
  EXPECT_EQ(head->fields[2].lookalike, HeaderKind::TransferEncoding);
  EXPECT_TRUE(head->fields[2].hopByHop);
  EXPECT_FALSE(head->fields[3].hopByHop); // Content-Length frames it and stays
  // DEL is a control character like \x01: skipped inside a look-alike name too.
  raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-E\x7fncoding: chunked\r\nContent-Length: 5\r\n\r\n";
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Invalid);
  EXPECT_EQ(head->desync.reason, DesyncReason::SuspiciousHeader);
  EXPECT_EQ(head->fields[1].lookalike, HeaderKind::TransferEncoding);
  EXPECT_TRUE(head->fields[1].hopByHop);
}

// A line starting with whitespace that reads as a field (" X: y") is classified as one but not
// forwarded: a receiver that unfolds obs-fold would append it to the line before, here the
// Content-Length tide frames by (found by fuzzing).
TEST(DesyncNormalization, LineStartingWithWhitespaceIsRemoved) {
  auto head = std::make_unique<MessageHead>();
  std::string raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n X: y\r\n\r\n";
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Invalid);
  EXPECT_TRUE(head->desync.malformed); // refused in every mode (RFC 9112 §2.2, §5.2)
  EXPECT_EQ(head->desync.tier, DesyncTier::Acceptable);
  ASSERT_EQ(head->fieldCount, 3u);
  EXPECT_EQ(head->fields[2].name, " X");
  EXPECT_TRUE(head->fields[2].hopByHop);
  EXPECT_FALSE(head->fields[1].hopByHop);
  EXPECT_EQ(head->contentLength, 5u);
  raw = "GET / HTTP/1.1\r\n Host: a\r\n\r\n"; // before the first field (RFC 9112 §2.2)
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 4096, *head), ParseStatus::Invalid);
  EXPECT_TRUE(head->fields[0].hopByHop);
}

// Beyond the corpus: tide's own rules for what it cannot frame or normalize.
TEST(DesyncRules, UnframeableAndNotNormalized) {
  auto head = std::make_unique<MessageHead>();
  auto parse = [&](const std::string& raw) {
    return parseRequestHead(raw.data(), raw.size(), 4096, *head);
  };
  // A folded length reads two ways.
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\n 0\r\n\r\n"), ParseStatus::Invalid);
  EXPECT_TRUE(head->desync.unframeable);
  // A look-alike of Transfer-Encoding in HTTP/1.0 or 0.9 does not hide the exact Content-Length
  // (found by fuzzing: it was forwarded while tide read no body).
  EXPECT_EQ(parse("POST / HTTP/1.0\r\nTransfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
            ParseStatus::Complete);
  EXPECT_FALSE(head->desync.malformed);
  EXPECT_EQ(head->framing, BodyFraming::ContentLength);
  EXPECT_EQ(head->contentLength, 5u);
  EXPECT_EQ(head->desync.tier, DesyncTier::Ambiguous);
  EXPECT_EQ(parse("POST / HTTP/1.0\r\nTransfer_Encoding: x\r\nContent-Length: 5\r\n"
                  "Content-Length: 6\r\n\r\n"),
            ParseStatus::Invalid);
  EXPECT_EQ(parse("POST /\xae\r\nTransfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
            ParseStatus::Invalid); // Content-Length in HTTP/0.9
  EXPECT_TRUE(head->desync.unframeable);
  // Two Host fields do not stop the classification of the request line (found by fuzzing: a CR
  // in the URI was unframeable but Compliant, and not counted).
  EXPECT_EQ(parse("GET /a\r HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ParseStatus::Invalid);
  EXPECT_TRUE(head->desync.unframeable);
  EXPECT_EQ(head->desync.tier, DesyncTier::Severe);
  EXPECT_EQ(head->desync.reason, DesyncReason::BadUri);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ParseStatus::Invalid);
  EXPECT_FALSE(head->desync.unframeable);
  // chunked must be the final coding (RFC 9112 §6.3).
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            ParseStatus::Invalid);
  EXPECT_EQ(head->desync.tier, DesyncTier::Severe);
  EXPECT_EQ(head->desync.reason, DesyncReason::BadTransferEncoding);
  // A body on GET, a control character in the URI: defensive mode cannot normalize them.
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"), ParseStatus::Complete);
  EXPECT_TRUE(head->desync.notNormalized);
  EXPECT_EQ(head->framing, BodyFraming::ContentLength); // monitor mode forwards it framed
  EXPECT_EQ(desyncAction(DesyncMitigationMode::Defensive, head->desync), DesyncAction::Block);
  ASSERT_EQ(parse("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::Invalid);
  EXPECT_EQ(head->desync.reason, DesyncReason::AmbiguousUri);
  EXPECT_TRUE(head->desync.malformed); // and the RFC says to reject it (§3.2): in every mode
  EXPECT_EQ(desyncAction(DesyncMitigationMode::Monitor, head->desync), DesyncAction::Block);
  // HTTP/1.2 is read as 1.1; HTTP/0.9 is refused (RFC 9112 §2.3).
  ASSERT_EQ(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), ParseStatus::Complete);
  EXPECT_EQ(head->versionMinor, 1);
  EXPECT_TRUE(head->keepAlive);
  ASSERT_EQ(parse("GET / HTTP/0.9\r\n\r\n"), ParseStatus::Invalid);
  EXPECT_TRUE(head->desync.malformed);
  // Transfer-Encoding beside Content-Length: forwarded (chunked only) and then closed, in
  // monitor mode too (RFC 9112 §6.1).
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 3\r\n\r\n"),
            ParseStatus::Complete);
  EXPECT_TRUE(head->desync.mustClose);
  EXPECT_EQ(desyncAction(DesyncMitigationMode::Monitor, head->desync),
            DesyncAction::ForwardThenClose);
  // A CR in the method.
  EXPECT_EQ(parse("GE\rT / HTTP/1.1\r\n\r\n"), ParseStatus::Invalid);
}

} // namespace
} // namespace tide::balancer
