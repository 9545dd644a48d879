// Log readers on the tests/data slices of the real traces and format examples. Expected counts
// and totals were computed independently with Python over the same files (see each comment).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tools/dryrun/reader.h"
#include "tools/dryrun/timeparse.h"

using namespace tollgate::dryrun;

namespace {

const std::string kData = std::string(TOLLGATE_SOURCE_DIR) + "/tests/data/";

struct ReadAll {
  AttrKeys keys;
  ReadStats stats;
  std::vector<LogRecord> recs;
  LogFormat format = LogFormat::Auto;
  std::vector<std::string> declared;

  explicit ReadAll(const std::string& path, LogFormat f = LogFormat::Auto, int64_t start_ms = 0) {
    ReaderOptions o{&keys, &stats, 0, path, start_ms};
    std::string err;
    auto r = open_log(path, f, o, &err);
    REQUIRE(r);
    INFO(err);
    format = r->format();
    declared = r->declared_fields();
    LogRecord rec;
    while (r->next(&rec)) recs.push_back(rec);
    CHECK(r->stream_error().empty());
  }
  static ReadAll text(const std::string& t, LogFormat f = LogFormat::Auto) {
    return ReadAll(t, f, true);
  }
  int64_t sum_in() const {
    int64_t s = 0;
    for (const auto& r : recs) s += r.in_tokens;
    return s;
  }
  int64_t sum_out() const {
    int64_t s = 0;
    for (const auto& r : recs) s += r.out_tokens;
    return s;
  }
  std::string attr(size_t i, const char* k) {
    std::optional<std::string_view> v = recs.at(i).attr(keys.intern(k));
    return v ? std::string(*v) : "<unset>";
  }

 private:
  ReadAll(const std::string& text, LogFormat f, bool) {
    ReaderOptions o{&keys, &stats, 0, "mem", 0};
    std::string err;
    auto r = open_log_text(text, f, o, &err);
    REQUIRE(r);
    format = r->format();
    LogRecord rec;
    while (r->next(&rec)) recs.push_back(rec);
  }
};

}  // namespace

TEST_CASE("Azure CSV: CRLF, 7 fractional digits, no newline at EOF") {
  // python: 300 rows, sum ContextTokens 627529, GeneratedTokens 7126,
  // first 2023-11-16 18:17:03.9799600 -> 1700158623979 ms, last 1700158840818 ms.
  ReadAll a(kData + "azure_code_slice.csv");
  CHECK(a.format == LogFormat::Csv);
  REQUIRE(a.recs.size() == 300);
  CHECK(a.stats.malformed == 0);
  CHECK(a.sum_in() == 627529);
  CHECK(a.sum_out() == 7126);
  CHECK(a.recs.front().ts_ms == 1700158623979);
  CHECK(a.recs.back().ts_ms == 1700158840818);  // the last row has no line terminator
  CHECK(a.recs.back().out_tokens == 88);
  CHECK(a.recs.front().line == 2);
  CHECK(a.declared == std::vector<std::string>{"TIMESTAMP", "ContextTokens", "GeneratedTokens"});
  CHECK(a.attr(0, "ContextTokens") == "4808");

  // python: 200 rows, 180695 in, 47050 out.
  ReadAll c(kData + "azure_conv_slice.csv");
  REQUIRE(c.recs.size() == 200);
  CHECK(c.sum_in() == 180695);
  CHECK(c.sum_out() == 47050);
  CHECK(c.recs.front().ts_ms == 1700158546680);
}

TEST_CASE("Mooncake JSONL with hash_ids, anchored by --start-time") {
  // python: 200 rows, 2782179 in, 71379 out, 5537 hash ids, last timestamp 72000 ms.
  int64_t start;
  REQUIRE(parse_datetime("2023-11-16T18:15:00Z", &start));
  ReadAll m(kData + "mooncake_slice.jsonl", LogFormat::Auto, start);
  CHECK(m.format == LogFormat::Mooncake);
  REQUIRE(m.recs.size() == 200);
  CHECK(m.sum_in() == 2782179);
  CHECK(m.sum_out() == 71379);
  size_t ids = 0;
  for (const auto& r : m.recs) {
    ids += r.hash_ids.size();
    CHECK(r.hash_ids.size() == static_cast<size_t>((r.in_tokens + 511) / 512));
  }
  CHECK(ids == 5537);
  CHECK(m.recs.back().ts_ms == start + 72000);
  CHECK(m.recs.front().hash_ids[0] == 0);
}

TEST_CASE("canonical JSONL, plain, gzip and zstd read the same") {
  // python: 200 records, 1009238 in, 41653 out, 5 failed attempts, 5 retries, 50 with hash_ids.
  for (const char* f :
       {"canonical_slice.jsonl", "canonical_slice.jsonl.gz", "canonical_slice.jsonl.zst"}) {
    INFO(f);
    ReadAll c(kData + f);
    CHECK(c.format == LogFormat::Canonical);
    REQUIRE(c.recs.size() == 200);
    CHECK(c.stats.malformed == 0);
    CHECK(c.sum_in() == 1009238);
    CHECK(c.sum_out() == 41653);
    int failed = 0, retries = 0, hashed = 0;
    for (const auto& r : c.recs) {
      failed += !r.ok();
      retries += r.attempt > 0;
      hashed += !r.hash_ids.empty();
    }
    CHECK(failed == 5);
    CHECK(retries == 5);
    CHECK(hashed == 50);
    CHECK(c.recs[0].request_id == "mooncake-000918");
    CHECK(c.recs[0].tenant == "soylent");
    CHECK(c.recs[0].ts_ms == 1700158800000);
    CHECK(c.attr(0, "task") == "qa");
    CHECK(c.attr(0, "tenant_budget") == "6");
    CHECK(c.attr(0, "rag_tokens") == "2720");
  }
}

TEST_CASE("canonical JSONL: malformed lines are skipped, counted, reported with line numbers") {
  std::string log =
      R"({"ts": 1000, "in_tokens": 10, "out_tokens": 1, "tenant": "a"})"
      "\n"
      R"({"ts": 2000, "in_tokens": "ten", "out_tokens": 1})"
      "\n"
      "\n"
      R"({"ts": 3000, "in_tokens": 30, "out_tokens": 3, "attrs": {"task": "qa", "n": 2.5, "ok": true}})"
      "\n"
      "not json at all\n"
      R"({"in_tokens": 5, "out_tokens": 1})"
      "\n"
      R"({"ts": "2023-11-16T18:17:03.979Z", "in_tokens": 7, "out_tokens": 0, "status": "429", "request_id": 42, "extra": "x"})";
  ReadAll r = ReadAll::text(log, LogFormat::Canonical);
  REQUIRE(r.recs.size() == 3);
  CHECK(r.stats.malformed == 3);
  REQUIRE(r.stats.first_malformed.size() == 3);
  CHECK(r.stats.first_malformed[0].line == 2);
  CHECK(r.stats.first_malformed[0].message == "bad in_tokens");
  CHECK(r.stats.first_malformed[1].line == 5);
  CHECK(r.stats.first_malformed[2].line == 6);
  CHECK(r.stats.first_malformed[2].message == "missing ts");
  CHECK(r.recs[1].line == 4);
  CHECK(r.attr(1, "task") == "qa");
  CHECK(r.attr(1, "n") == "2.5");
  CHECK(r.attr(1, "ok") == "true");
  CHECK(r.recs[2].ts_ms == 1700158623979);
  CHECK(r.recs[2].status == "throttled");
  CHECK(r.recs[2].request_id == "42");
  CHECK(r.attr(2, "extra") == "x");  // unknown top-level scalars become attributes
}

TEST_CASE("canonical JSONL: string escapes are decoded") {
  ReadAll r = ReadAll::text(
      R"({"ts": 1, "in_tokens": 1, "out_tokens": 1, "tenant": "a\"b\\c\u00e9", "attrs": {"k\n": "v\t"}})",
      LogFormat::Canonical);
  REQUIRE(r.recs.size() == 1);
  CHECK(r.recs[0].tenant == "a\"b\\c\xC3\xA9");
  CHECK(r.attr(0, "k\n") == "v\t");
}

TEST_CASE("CSV: malformed rows, quoting, missing columns") {
  ReadAll r = ReadAll::text(
      "ts,in_tokens,out_tokens,tenant,task\n"
      "2024-01-01T00:00:00Z,100,10,\"acme, inc\",qa\n"
      "2024-01-01T00:00:01Z,abc,10,x,qa\n"
      "2024-01-01T00:00:02Z,100,10,x\n"
      "2024-01-01T00:00:03Z,5,1,\"say \"\"hi\"\"\",chat\r\n",
      LogFormat::Csv);
  REQUIRE(r.recs.size() == 2);
  CHECK(r.recs[0].tenant == "acme, inc");
  CHECK(r.recs[1].tenant == "say \"hi\"");
  CHECK(r.attr(1, "task") == "chat");
  CHECK(r.stats.malformed == 2);
  CHECK(r.stats.first_malformed[0].line == 3);
  CHECK(r.stats.first_malformed[1].line == 4);

  ReadAll bad = ReadAll::text("when,tokens\n1,2\n", LogFormat::Csv);
  CHECK(bad.recs.empty());
  CHECK(bad.stats.malformed == 1);
}

TEST_CASE("OTel GenAI span example (spec v1.41) and OTLP envelopes") {
  ReadAll s(kData + "formats/genai_chat_span.example.json");
  CHECK(s.format == LogFormat::Otel);
  REQUIRE(s.recs.size() == 1);
  CHECK(s.recs[0].in_tokens == 52);
  CHECK(s.recs[0].out_tokens == 47);
  CHECK(s.recs[0].model == "gpt-4-0613");  // the response model is what was billed
  CHECK(s.recs[0].request_id == "chatcmpl-9J3uIL87gldCFtiIbyaOvTeYBRA3l");
  CHECK(s.attr(0, "gen_ai.request.model") == "gpt-4");
  CHECK(s.stats.notes.size() == 1);  // no timestamp in the example: replayed at start

  ReadAll o = ReadAll::text(
      R"({"resourceSpans": [{"resource": {"attributes": [{"key": "tenant", "value": {"stringValue": "acme"}}]},
          "scopeSpans": [{"spans": [
            {"spanId": "a1", "startTimeUnixNano": "1700000000123000000", "attributes": [
              {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
              {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
              {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "20"}},
              {"key": "gen_ai.usage.cache_read.input_tokens", "value": {"intValue": "40"}}]},
            {"spanId": "a2", "startTimeUnixNano": "1700000001000000000", "status": {"code": 2},
             "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}}]},
            {"spanId": "a3", "startTimeUnixNano": "1700000002000000000", "status": {"code": 2}, "attributes": [
              {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "7"}},
              {"key": "error.type", "value": {"stringValue": "timeout"}}]}]}]}]})",
      LogFormat::Auto);
  CHECK(o.format == LogFormat::Otel);
  REQUIRE(o.recs.size() == 2);  // the tool span has no usage
  CHECK(o.recs[0].ts_ms == 1700000000123);
  CHECK(o.recs[0].tenant == "acme");
  CHECK(o.recs[0].cached_tokens == 40);
  CHECK(o.recs[0].model == "gpt-4o");
  CHECK(o.recs[1].status == "timeout");

  // One flat span per line.
  ReadAll l = ReadAll::text(
      R"({"start_time": "2024-05-01T10:00:00Z", "attributes": {"gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 4}})"
      "\n"
      R"({"start_time": "2024-05-01T10:00:01Z", "attributes": {"gen_ai.usage.prompt_tokens": 5, "gen_ai.usage.completion_tokens": 6}})",
      LogFormat::Otel);
  REQUIRE(l.recs.size() == 2);
  CHECK(l.sum_in() == 8);
  CHECK(l.sum_out() == 10);
}

TEST_CASE("OTel spans as one JSON array") {
  ReadAll a = ReadAll::text(
      R"([{"start_time": 1700000000, "attributes": {"gen_ai.usage.input_tokens": 11, "gen_ai.usage.output_tokens": 1}},
          {"start_time": 1700000001, "attributes": {"gen_ai.usage.input_tokens": 22, "gen_ai.usage.output_tokens": 2}}])",
      LogFormat::Auto);
  CHECK(a.format == LogFormat::Otel);
  REQUIRE(a.recs.size() == 2);
  CHECK(a.sum_in() == 33);
  CHECK(a.recs[1].ts_ms == 1700000001000);
}

TEST_CASE("a corrupt compressed log is reported, not silently truncated") {
  std::string path = "/tmp/tollgate_dryrun_corrupt_" + std::to_string(::getpid()) + ".zst";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    const unsigned char bytes[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05};
    std::fwrite(bytes, 1, sizeof bytes, f);
    std::fclose(f);
  }
  AttrKeys keys;
  ReadStats stats;
  ReaderOptions o{&keys, &stats, 0, path, 0};
  std::string err;
  auto r = open_log(path, LogFormat::Canonical, o, &err);
  REQUIRE(r);
  LogRecord rec;
  while (r->next(&rec)) {
  }
  CHECK_FALSE(r->stream_error().empty());
  std::remove(path.c_str());
}

TEST_CASE("LiteLLM spend logs: metadata is a JSON string inside the row") {
  ReadAll s(kData + "formats/spend_logs_payload.example.json");
  CHECK(s.format == LogFormat::Litellm);
  REQUIRE(s.recs.size() == 1);
  const LogRecord& r = s.recs[0];
  CHECK(r.in_tokens == 10);
  CHECK(r.out_tokens == 20);
  CHECK(r.model == "gpt-4o");
  CHECK(r.status == "ok");
  CHECK(r.logged_cost_usd == Approx(0.000225));
  int64_t ms;
  REQUIRE(parse_datetime("2025-01-24 09:20:46.847371", &ms));
  CHECK(r.ts_ms == ms);
  CHECK(s.attr(0, "call_type") == "acompletion");

  ReadAll p(kData + "formats/standard_logging_payload.example.json", LogFormat::Litellm);
  REQUIRE(p.recs.size() == 1);
  CHECK(p.recs[0].in_tokens == 10);
  CHECK(p.recs[0].request_id == "chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f");

  ReadAll rows = ReadAll::text(
      R"({"request_id": "r1", "startTime": "2025-01-24 09:00:00.000000", "model": "gpt-4o", "prompt_tokens": 100, "completion_tokens": 5, "status": "failure", "team_id": "t1", "metadata": "{\"usage_object\": {\"prompt_tokens_details\": {\"cached_tokens\": 60}}, \"spend_logs_metadata\": {\"task\": \"qa\"}, \"error_information\": {\"error_code\": \"429\"}}"})",
      LogFormat::Litellm);
  REQUIRE(rows.recs.size() == 1);
  CHECK(rows.recs[0].cached_tokens == 60);
  CHECK(rows.recs[0].tenant == "t1");
  CHECK(rows.recs[0].status == "throttled");
  CHECK(rows.attr(0, "task") == "qa");
}

TEST_CASE("OpenAI, Anthropic and Bedrock example records") {
  ReadAll chat(kData + "formats/chat_completion_response.example.json");
  CHECK(chat.format == LogFormat::OpenAI);
  REQUIRE(chat.recs.size() == 1);
  CHECK(chat.recs[0].in_tokens == 19);
  CHECK(chat.recs[0].out_tokens == 10);
  CHECK(chat.recs[0].ts_ms == 1741569952000LL);
  CHECK(chat.recs[0].model == "gpt-5.4");

  ReadAll resp(kData + "formats/responses_api_response.example.json", LogFormat::OpenAI);
  REQUIRE(resp.recs.size() == 1);
  CHECK(resp.recs[0].in_tokens == 36);
  CHECK(resp.recs[0].out_tokens == 87);

  ReadAll bout(kData + "formats/batch_output_line.example.jsonl");
  CHECK(bout.format == LogFormat::OpenAI);
  REQUIRE(bout.recs.size() == 1);
  CHECK(bout.recs[0].in_tokens == 24);
  CHECK(bout.recs[0].out_tokens == 15);
  CHECK(bout.recs[0].request_id == "request-2");
  CHECK(bout.attr(0, "batch") == "true");

  ReadAll bin(kData + "formats/batch_input_line.example.jsonl", LogFormat::OpenAI);
  CHECK(bin.recs.empty());
  CHECK(bin.stats.malformed == 0);
  CHECK(bin.stats.notes.size() == 1);  // skipped with a reason, not silently

  ReadAll page(kData + "formats/usage_api_completions_page.example.json");
  REQUIRE(page.recs.size() == 1);
  CHECK(page.recs[0].in_tokens == 1000);
  CHECK(page.recs[0].cached_tokens == 400);
  CHECK(page.recs[0].out_tokens == 500);
  CHECK(page.recs[0].ts_ms == 1730419200000LL);

  // Anthropic: input = input_tokens + cache writes + cache reads.
  ReadAll start(kData + "formats/message_start_event.example.json");
  CHECK(start.format == LogFormat::Anthropic);
  REQUIRE(start.recs.size() == 1);
  CHECK(start.recs[0].in_tokens == 28);
  CHECK(start.recs[0].out_tokens == 5);
  CHECK(start.recs[0].model == "claude-fable-5");

  ReadAll delta(kData + "formats/message_delta_event.example.json", LogFormat::Anthropic);
  REQUIRE(delta.recs.size() == 1);
  CHECK(delta.recs[0].out_tokens == 106);

  ReadAll stream = ReadAll::text(
      R"({"type": "message_start", "message": {"model": "claude-3-5-haiku-20241022", "id": "m1", "usage": {"input_tokens": 10, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 30, "output_tokens": 1}}})"
      "\n"
      R"({"type": "message_delta", "usage": {"output_tokens": 77}})",
      LogFormat::Anthropic);
  REQUIRE(stream.recs.size() == 1);
  CHECK(stream.recs[0].in_tokens == 60);
  CHECK(stream.recs[0].cached_tokens == 30);
  CHECK(stream.recs[0].out_tokens == 77);
  CHECK(stream.recs[0].model == "claude-3-5-haiku-20241022");

  ReadAll bed(kData + "formats/model_invocation_log.example.json");
  CHECK(bed.format == LogFormat::Bedrock);
  REQUIRE(bed.recs.size() == 1);
  CHECK(bed.recs[0].in_tokens == 15);
  CHECK(bed.recs[0].out_tokens == 12);
  CHECK(bed.recs[0].model == "<modelId>");
  CHECK(bed.attr(0, "operation") == "InvokeModel");
}

TEST_CASE("status normalisation and time parsing") {
  CHECK(normalize_status("success") == "ok");
  CHECK(normalize_status("429") == "throttled");
  CHECK(normalize_status("rate_limit_error") == "throttled");
  CHECK(normalize_status("503") == "server");
  CHECK(normalize_status("Timeout") == "timeout");
  CHECK(normalize_status("context_length_exceeded") == "context_overflow");
  CHECK(normalize_status("failure") == "error");
  int64_t ms;
  REQUIRE(parse_datetime("2023-11-16 18:17:03.9799600", &ms));
  CHECK(ms == 1700158623979);
  REQUIRE(parse_datetime("2023-11-16T19:17:03.979+01:00", &ms));
  CHECK(ms == 1700158623979);
  CHECK_FALSE(parse_datetime("<timestamp>", &ms));
  CHECK(epoch_number_to_ms(1700158623.979) == 1700158623979);
  CHECK(epoch_number_to_ms(1700158623979.0) == 1700158623979);
  CHECK(civil_date(19677) == "2023-11-16");
}

// Found by log_reader_fuzz: a token count beyond int64 was converted with undefined behaviour.
TEST_CASE("readers: numbers beyond int64 are malformed lines, not undefined behaviour") {
  auto m = ReadAll::text(
      "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [0]}\n"
      "{\"timestamp\": 0, \"input_length\": 4444444444444444444444444e44, \"output_length\": 5, "
      "\"hash_ids\": [0]}\n",
      LogFormat::Mooncake);
  CHECK(m.recs.size() == 1);
  CHECK(m.stats.malformed == 1);
  auto c = ReadAll::text(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2023-11-16 18:17:03.9799600,4808,10\n"
      "2023-11-16 18:17:04.0319600,1e300,8\n",
      LogFormat::Csv);
  CHECK(c.recs.size() == 1);
  CHECK(c.stats.malformed == 1);
}

// The canonical reader's fast paths (16-byte string scans, 8-digit integer steps, keys matched
// raw against the previous line's) hand over to their fallbacks at these edges.
TEST_CASE("canonical JSONL: fast-path edges (line ends, long strings, key order, whitespace)") {
  std::string log =
      R"({"ts":1,"in_tokens":10,"out_tokens":1,"tenant":"a","attrs":{"task":"qa","tier":"pro"}})"
      "\n"
      // Strings of 15, 16 and 17 bytes, the last closing 3 bytes before the line end.
      R"({"ts":2,"in_tokens":10,"out_tokens":1,"tenant":"0123456789abcde","model":"0123456789abcdef","attrs":{"task":"0123456789abcdefg"}})"
      "\n"
      // Escapes after 16 plain bytes; escaped keys that decode to the remembered ones.
      R"({"ts":3,"in_tokens":10,"out_tokens":1,"t\u0065nant":"0123456789abcdefghij\"k\u00e9","attrs":{"ta\u0073k":"x\\y"}})"
      "\n"
      // The same keys in another order, whitespace around every token, CRLF.
      " { \"in_tokens\" :\t20 , \"ts\" : 4 ,\"out_tokens\": 2 , \"attrs\" : { \"tier\" : "
      "\"free\" , \"task\":\"chat\" } } \r\n"
      // 18 digits; a fraction after 9 digits; 8 digits ending 1 byte before the line end.
      R"({"ts":123456789012345678,"in_tokens":123456789.9,"attrs":{"n":12345678},"out_tokens":12345678})"
      "\n"
      // An unterminated string running to the line end; a line shorter than 16 bytes.
      R"({"ts":6,"in_tokens":1,"out_tokens":1,"tenant":"0123456789abcdefghij)"
      "\n"
      R"({"ts":7})"
      "\n"
      // A key that is a prefix of the one remembered at its position.
      R"({"ts":8,"in_tokens":1,"out_tokens":1,"tenan":"x"})"
      "\n";
  ReadAll r = ReadAll::text(log, LogFormat::Canonical);
  REQUIRE(r.recs.size() == 6);
  CHECK(r.recs[0].tenant == "a");
  CHECK(r.attr(0, "tier") == "pro");
  CHECK(r.recs[1].tenant == "0123456789abcde");
  CHECK(r.recs[1].model == "0123456789abcdef");
  CHECK(r.attr(1, "task") == "0123456789abcdefg");
  CHECK(r.recs[2].tenant == "0123456789abcdefghij\"k\xC3\xA9");
  CHECK(r.attr(2, "task") == "x\\y");
  CHECK(r.recs[3].ts_ms == 4);
  CHECK(r.recs[3].in_tokens == 20);
  CHECK(r.recs[3].out_tokens == 2);
  CHECK(r.attr(3, "tier") == "free");
  CHECK(r.attr(3, "task") == "chat");
  CHECK(r.recs[4].ts_ms == 123456789012345678);
  CHECK(r.recs[4].in_tokens == 123456789);
  CHECK(r.recs[4].out_tokens == 12345678);
  CHECK(r.attr(4, "n") == "12345678");
  CHECK(r.recs[5].tenant.empty());
  CHECK(r.attr(5, "tenan") == "x");
  REQUIRE(r.stats.first_malformed.size() == 2);
  CHECK(r.stats.first_malformed[0].line == 6);
  CHECK(r.stats.first_malformed[0].message == "bad tenant");
  CHECK(r.stats.first_malformed[1].line == 7);
  CHECK(r.stats.first_malformed[1].message == "missing in_tokens");
}

TEST_CASE("canonical JSONL: text fields borrow the line only when it holds their bytes") {
  // Escaped values are decoded into one scratch buffer in turn: each must be copied before the
  // next is decoded. Plain values are views of the line and must survive copying the record.
  auto r = ReadAll::text(
      "{\"ts\":1,\"request_id\":\"r\\u0031\",\"tenant\":\"a\\u0062c\",\"model\":\"x\\ty\","
      "\"status\":\"ok\",\"in_tokens\":1,\"out_tokens\":2}\n"
      "{\"ts\":2,\"request_id\":\"plain\",\"tenant\":\"t-1\",\"model\":\"gpt-4o\",\"in_tokens\":1,"
      "\"out_tokens\":2}\n",
      LogFormat::Canonical);
  REQUIRE(r.recs.size() == 2);
  CHECK(r.recs[0].request_id == "r1");
  CHECK(r.recs[0].tenant == "abc");
  CHECK(r.recs[0].model == "x\ty");
  CHECK(r.recs[0].status == "ok");
  CHECK(r.recs[1].request_id == "plain");
  CHECK(r.recs[1].tenant == "t-1");
  CHECK(r.recs[1].model == "gpt-4o");
  CHECK(r.recs[1].status == "ok");
}

TEST_CASE("canonical JSONL: attribute values borrow the line only when it holds their bytes") {
  // Escaped values are decoded into one scratch buffer in turn, so each must be copied before
  // the next is decoded; plain values (strings, numbers, literals) are views of the line. The
  // line is only valid until the next line is read: checked here right after next(), and the
  // copies ReadAll keeps must own everything.
  const std::string log =
      "{\"ts\":1,\"in_tokens\":1,\"out_tokens\":2,\"attrs\":{\"task\":\"cl\\u0061ssify\","
      "\"tier\":\"p\\tro\",\"note\":\"plain\",\"n\":42,\"flag\":true,\"gone\":null,\"e\":\"\"},"
      "\"extra\":\"top\\u002dlevel\",\"extra2\":7}\n"
      "{\"ts\":2,\"in_tokens\":1,\"out_tokens\":2,\"attrs\":{\"task\":\"chat\",\"tier\":\"pro\","
      "\"note\":\"x\\\\y\",\"n\":-1.5e3,\"flag\":false,\"gone\":null,\"e\":\"\"},\"extra\":\"top\","
      "\"extra2\":8}\n";
  struct Want {
    const char* key;
    const char* value;  // null: absent
    bool borrowed;
  };
  const std::vector<std::vector<Want>> want = {
      {{"task", "classify", false},
       {"tier", "p\tro", false},
       {"note", "plain", true},
       {"n", "42", true},
       {"flag", "true", true},
       {"gone", nullptr, false},
       {"e", "", true},
       {"extra", "top-level", false},
       {"extra2", "7", true}},
      {{"task", "chat", true},
       {"tier", "pro", true},
       {"note", "x\\y", false},
       {"n", "-1.5e3", true},
       {"flag", "false", true},
       {"gone", nullptr, false},
       {"e", "", true},
       {"extra", "top", true},
       {"extra2", "8", true}},
  };
  AttrKeys keys;
  ReadStats stats;
  ReaderOptions o{&keys, &stats, 0, "mem", 0};
  std::string err;
  auto reader = open_log_text(log, LogFormat::Canonical, o, &err);
  REQUIRE(reader);
  LogRecord rec;
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("record " << i);
    REQUIRE(reader->next(&rec));
    for (const Want& w : want[i]) {
      INFO(w.key);
      std::optional<std::string_view> v = rec.attr(keys.intern(w.key));
      if (!w.value) {
        CHECK_FALSE(v.has_value());
        continue;
      }
      REQUIRE(v.has_value());
      CHECK(*v == w.value);
      for (size_t a = 0; a < rec.attr_count(); ++a)
        if (rec.attr_key(a) == keys.intern(w.key)) CHECK(rec.attr_borrowed(a) == w.borrowed);
    }
  }
  CHECK_FALSE(reader->next(&rec));

  ReadAll all = ReadAll::text(log, LogFormat::Canonical);
  REQUIRE(all.recs.size() == 2);
  for (size_t i = 0; i < want.size(); ++i) {
    for (size_t a = 0; a < all.recs[i].attr_count(); ++a) CHECK_FALSE(all.recs[i].attr_borrowed(a));
    for (const Want& w : want[i]) CHECK(all.attr(i, w.key) == (w.value ? w.value : "<unset>"));
  }
}

TEST_CASE("readers that build their values copy them: CSV quoting, JSON formats") {
  // Every value below is built by the reader (unquoted CSV fields, nlohmann strings, numbers
  // formatted back to text): none may be a view, or it would dangle once the reader moves on.
  auto check_owned = [](const char* text, LogFormat f, const char* key, const char* value) {
    AttrKeys keys;
    ReadStats stats;
    ReaderOptions o{&keys, &stats, 0, "mem", 0};
    std::string err;
    auto reader = open_log_text(text, f, o, &err);
    REQUIRE(reader);
    LogRecord rec;
    REQUIRE(reader->next(&rec));
    INFO(text);
    CHECK(rec.attr(keys.intern(key)) == std::optional<std::string_view>(value));
    for (size_t a = 0; a < rec.attr_count(); ++a) CHECK_FALSE(rec.attr_borrowed(a));
  };
  check_owned("ts,in_tokens,out_tokens,kind\n1,10,1,\"a,\"\"b\"\"\"\n2,1,1,c\n", LogFormat::Csv,
              "kind", "a,\"b\"");
  check_owned("ts,in_tokens,out_tokens,kind\n1,10,1,plain\n", LogFormat::Csv, "kind", "plain");
  check_owned(R"({"timestamp":1000,"input_length":10,"output_length":1,"x":"y"})"
              "\n",
              LogFormat::Mooncake, "x", "y");
}
