#include "ctrlplane/explain.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "ctrlplane/value_match.h"

namespace sensor::ctl {

absl::StatusOr<std::unique_ptr<IndicatorExplainer>> IndicatorExplainer::Build(
    misp::LoadResult loaded, CompileOptions options) {
  auto explainer = std::unique_ptr<IndicatorExplainer>(new IndicatorExplainer());
  explainer->options_ = options;

  // The removed attributes are compiled on their own, without screening, after the
  // active compile has said which they are. Both compiles consume their input.
  misp::LoadResult removed_input;
  removed_input.events = loaded.events;
  const std::vector<misp::Attribute> all_attributes = loaded.attributes;
  explainer->active_ = CompileIndicators(std::move(loaded), options, 1);

  absl::flat_hash_map<std::string, std::vector<std::string>> lists_by_uuid;
  for (const WarninglistedAttribute& removed : explainer->active_.warninglisted) {
    const misp::Attribute& attribute = all_attributes[removed.input_index];
    removed_input.attributes.push_back(attribute);
    lists_by_uuid[attribute.uuid] = removed.lists;
  }
  CompileOptions unscreened = options;
  unscreened.warninglists = nullptr;
  explainer->removed_ = CompileIndicators(std::move(removed_input), unscreened, 1);

  const IndicatorTable& table = *explainer->removed_.snapshot->indicators;
  for (const IndicatorEntry& entry : table.entries) {
    auto lists = lists_by_uuid.find(table.attributes[entry.attribute].uuid);
    explainer->removed_lists_.push_back(lists == lists_by_uuid.end()
                                            ? std::vector<std::string>{}
                                            : lists->second);
  }
  return explainer;
}

void IndicatorExplainer::Search(const CompileResult& compiled, std::string_view value,
                                Explanation& out, bool removed) const {
  const dp::Snapshot& snapshot = *compiled.snapshot;
  const IndicatorTable& table = *snapshot.indicators;
  std::vector<ExplainedMatch>& matches = removed ? out.removed : out.active;
  auto add = [&](std::string_view matched_as, uint32_t indicator) {
    for (const ExplainedMatch& known : matches) {
      if (known.matched_value == table.entries[indicator].matched_value &&
          known.attribute == &table.attributes[table.entries[indicator].attribute]) {
        return;
      }
    }
    const IndicatorEntry& entry = table.entries[indicator];
    ExplainedMatch& match = matches.emplace_back();
    match.matched_as = std::string(matched_as);
    match.matched_value = entry.matched_value;
    match.attribute = &table.attributes[entry.attribute];
    match.event = &table.events[match.attribute->event_index];
    match.tlp = entry.tlp;
    if (removed) match.warninglists = removed_lists_[indicator];
  };

  absl::StatusOr<ValueMatches> matched = MatchValue(snapshot, value);
  if (!matched.ok()) {
    if (!removed) {
      out.readings.push_back(absl::StrCat("not matched: ", matched.status().message()));
    }
    return;
  }
  if (!removed) out.readings = matched->readings;
  for (const ValueMatch& match : matched->matches) add(match.matched_as, match.indicator);

  if (!removed && options_.warninglists != nullptr) {
    out.value_on_lists =
        options_.warninglists->Explain(matched->warninglist_type, matched->warninglist_value);
  }
}

Explanation IndicatorExplainer::Explain(std::string_view value) const {
  Explanation out;
  out.value = std::string(value);
  Search(active_, value, out, /*removed=*/false);
  Search(removed_, value, out, /*removed=*/true);
  return out;
}

std::string FormatExplanation(const Explanation& explanation) {
  std::string text = absl::StrCat(ForTerminal(explanation.value), "\n");
  for (const std::string& reading : explanation.readings) {
    absl::StrAppend(&text, "  read as ", reading, "\n");
  }
  auto format_match = [&text](const ExplainedMatch& match) {
    absl::StrAppend(&text, "    ", ForTerminal(match.attribute->type), " ",
                    ForTerminal(match.matched_value), " (", match.matched_as, ") attribute ",
                    ForTerminal(match.attribute->uuid), ", event ",
                    ForTerminal(match.event->id.empty() ? match.event->uuid : match.event->id),
                    " \"", ForTerminal(match.event->info), "\", tlp:", ToAbsl(TlpName(match.tlp)), "\n");
  };
  if (explanation.active.empty()) {
    absl::StrAppend(&text, "  matches no active indicator\n");
  } else {
    absl::StrAppend(&text, "  matches ", explanation.active.size(), " active indicator",
                    explanation.active.size() == 1 ? "" : "s", ":\n");
    for (const ExplainedMatch& match : explanation.active) format_match(match);
  }
  for (const ExplainedMatch& match : explanation.removed) {
    std::string lists;
    for (const std::string& list : match.warninglists) {
      absl::StrAppend(&lists, lists.empty() ? "" : ", ", "\"", ForTerminal(list), "\"");
    }
    absl::StrAppend(&text, "  would match, but removed by warninglist ", lists, ":\n");
    format_match(match);
  }
  for (const std::string& list : explanation.value_on_lists) {
    absl::StrAppend(&text, "  the value itself is on warninglist \"", ForTerminal(list), "\"\n");
  }
  return text;
}

}  // namespace sensor::ctl
