// Rendering decisions and explanations for people (text) and programs (JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/evaluator.hpp"
#include "lcrules/style.hpp"

namespace lcrules {

// The one-line answer: "kind-dev: kind, local, cluster dev: load images with `kind load ...`".
std::string summary_line(const Decision& d);

// With style.color, the explanation's [matched]/[not-matched] and held:/failed: in colour.
std::string render_text(const Decision& d, const Explanation* ex, TextStyle style = {});
nlohmann::ordered_json decision_json(const Decision& d, const Explanation* ex);

nlohmann::ordered_json explanation_json(const Explanation& ex);
std::string location_text(const ast::Location& loc);  // "FILE:LINE"

// Text for a terminal: control bytes other than newline and tab written as \xHH.
std::string printable(std::string_view text);

}  // namespace lcrules
