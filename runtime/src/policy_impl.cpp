// Builds a PolicyImpl's metadata from a checked Program: input/route/rule/budget infos, the
// budgets any rule reads, rule source texts and the version hash.
#include "runtime/src/policy_impl.h"

#include <algorithm>
#include <cstdio>

namespace tollgate::detail {

namespace {

void collect_budgets(const Expr* e, const Program& p, std::vector<int>* out) {
  if (!e) return;
  if (e->kind == ExprKind::Member) {
    int idx = e->index;
    if (idx < 0) {
      std::string_view name(e->text);
      name = name.substr(0, name.find('.'));
      for (size_t i = 0; i < p.budgets.size(); ++i)
        if (p.budgets[i].name == name) idx = static_cast<int>(i);
    }
    if (idx >= 0) out->push_back(idx);
  }
  for (const auto& a : e->args) collect_budgets(a.get(), p, out);
}

// Byte offset of a 1-based line:col.
size_t offset_of(std::string_view src, SourceLoc loc, const std::vector<size_t>& line_starts) {
  if (loc.line == 0 || loc.line > line_starts.size()) return src.size();
  size_t off = line_starts[loc.line - 1] + (loc.col > 0 ? loc.col - 1 : 0);
  return std::min(off, src.size());
}

// The rule's text on one line: comments dropped, whitespace runs collapsed.
std::string one_line(std::string_view text) {
  std::string out;
  bool in_str = false, space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!in_str && c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      space = true;
      continue;
    }
    if (in_str && c == '\\' && i + 1 < text.size()) {
      out += c;
      out += text[++i];
      continue;
    }
    if (c == '"') in_str = !in_str;
    if (!in_str && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string hash_hex(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::shared_ptr<PolicyImpl> build_policy_impl(std::unique_ptr<Program> program,
                                              std::string_view source, std::string_view file,
                                              const PriceLookup& prices) {
  auto impl = std::make_shared<PolicyImpl>();
  const Program& p = *program;
  impl->name = p.has_header ? p.header.name : std::string();
  impl->file = std::string(file);
  impl->version_hash = hash_hex(source);
  impl->tables = make_policy_tables(p, prices);
  impl->routes = impl->tables.routes;
  impl->budgets = impl->tables.budgets;

  for (const InputDecl& d : p.inputs) {
    InputInfo info;
    info.name = d.name;
    info.type = input_type(d.type.kind);
    if (info.type == InputType::Enum && d.type.enum_id >= 0 &&
        static_cast<size_t>(d.type.enum_id) < p.enums.size())
      info.members = p.enums[d.type.enum_id].members;
    info.has_default = d.default_value != nullptr;
    impl->inputs.push_back(std::move(info));
  }

  // Rule texts run from the rule's start to the next top-level item or comment-free end.
  std::vector<size_t> line_starts{0};
  for (size_t i = 0; i < source.size(); ++i)
    if (source[i] == '\n') line_starts.push_back(i + 1);
  std::vector<size_t> item_starts;
  for (const Item& it : p.items) item_starts.push_back(offset_of(source, it.loc, line_starts));
  for (const Rule& r : p.rules) item_starts.push_back(offset_of(source, r.loc, line_starts));
  std::sort(item_starts.begin(), item_starts.end());
  for (const Rule& r : p.rules) {
    RuleInfo info;
    info.line = r.loc.line;
    info.col = r.loc.col;
    info.is_default = r.is_default;
    size_t start = offset_of(source, r.loc, line_starts);
    auto next = std::upper_bound(item_starts.begin(), item_starts.end(), start);
    size_t end = next == item_starts.end() ? source.size() : *next;
    info.text = one_line(source.substr(start, end - start));
    impl->rule_lines.push_back(info.line);
    impl->rules.push_back(std::move(info));
  }

  std::vector<int> read;
  for (const LetDecl& l : p.lets) collect_budgets(l.value.get(), p, &read);
  for (const Rule& r : p.rules) {
    collect_budgets(r.condition.get(), p, &read);
    for (const Action& a : r.actions) collect_budgets(a.arg.get(), p, &read);
  }
  std::sort(read.begin(), read.end());
  read.erase(std::unique(read.begin(), read.end()), read.end());
  impl->budgets_read = std::move(read);

  impl->ctx = make_eval_context(p, impl->tables);
  impl->schema = build_schema(p, *impl->ctx);
  impl->program = std::move(program);
  return impl;
}

}  // namespace tollgate::detail
