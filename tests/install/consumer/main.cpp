// Classifies the kube-context kind-dev of a kubeconfig with the shipped rules, prints the
// decision as `lcrules eval -o json` prints it, and checks it.
//   usage: classify SHIPPED_RULES_DIR KUBECONFIG
#include <lcrules/engine.hpp>

#include <iostream>

namespace {

void print_errors(const std::vector<lcrules::Error>& errors) {
  for (const auto& e : errors) std::cerr << e.text << (e.text.ends_with('\n') ? "" : "\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: classify SHIPPED_RULES_DIR KUBECONFIG\n";
    return 2;
  }
  lcrules::configure_allocator();
  const lcrules::Engine engine;  // reads the process's environment (HOME, KUBECONFIG, ...)

  lcrules::RuleSetOptions options;
  options.shipped_fallback = argv[1];  // used when there is no ../share/lcrules beside the program
  auto rules = engine.load(options);
  if (!rules) {
    print_errors(rules.errors());
    return 2;
  }
  for (const auto& warning : rules->warnings()) std::cerr << "warning: " << warning << "\n";

  lcrules::EvalRequest request;
  request.context = "kind-dev";
  request.kubeconfig = argv[2];
  auto evaluation = engine.evaluate(rules.value(), request);
  if (!evaluation) {
    print_errors(evaluation.errors());
    return 2;
  }
  std::cout << lcrules::dump_json(evaluation->json());

  const lcrules::Decision& decision = evaluation->decision();
  if (decision.cluster != "kind" || !decision.local || decision.cluster_name != "dev" ||
      !decision.load_images || decision.push_images) {
    std::cerr << "unexpected decision for kind-dev: " << decision.cluster << "\n";
    return 1;
  }
  return 0;
}
