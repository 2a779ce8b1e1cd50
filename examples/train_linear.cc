// petabox-example: fits y = X·w + b by full-batch gradient descent on the engine.
//
// There is no autograd yet, so the gradient of the mean squared error is written out:
//   err = X·w + b - y,  loss = mean(err²),  dL/dw = 2/N · Xᵀ·err,  dL/db = 2/N · Σ err.
// Data come from fixed seeds, so every run is the same. Prints the loss each step, then the
// recovered parameters; exits 1 if any engine call fails or the fit does not converge.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/exec_stats.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

constexpr int64_t kSamples = 512;
constexpr int64_t kFeatures = 8;
constexpr int kSteps = 40;
constexpr double kLearningRate = 0.2;
constexpr double kLossThreshold = 1e-6;  // converged when the final MSE is below this

int Fail(const char* what, const Status& status) {
  std::fprintf(stderr, "petabox-example: %s failed: %s\n", what, status.ToString().c_str());
  return 1;
}

int Run() {
  const std::vector<float> w_true_host = {1.5f, -2.0f, 0.5f, 3.0f, -1.0f, 0.25f, 2.0f, -0.75f};
  const float b_true_host = 0.8f;

  // Data: X ~ N(0, 1), y = X·w_true + b_true, noiseless, so the optimum's loss is 0.
  Tensor x = Tensor::Randn({kSamples, kFeatures}, /*seed=*/42);
  Tensor w_true = Tensor::FromVector(w_true_host, {kFeatures, 1});
  Tensor y = x.Matmul(w_true).Add(b_true_host);
  if (Status s = RealizeAll({&x, &y}); !s.ok()) return Fail("building the data", s);

  // Parameters start at zero.
  Tensor w = Tensor::Zeros({kFeatures, 1});
  Tensor b = Tensor::Zeros({1});
  Tensor xt = x.Transpose();
  double loss_value = 0;
  for (int step = 0; step < kSteps; ++step) {
    Tensor err = x.Matmul(w).Add(b).Sub(y);               // (N, 1)
    Tensor loss = err.Mul(err).Mean();                    // ()
    Tensor grad_w = xt.Matmul(err).Mul(2.0 / kSamples);   // (D, 1)
    Tensor grad_b = err.Sum({0}).Mul(2.0 / kSamples);     // (1)
    Tensor new_w = w.Sub(grad_w.Mul(kLearningRate));
    Tensor new_b = b.Sub(grad_b.Mul(kLearningRate));
    // One schedule per step; realizing w and b keeps the lazy graph from growing.
    if (Status s = RealizeAll({&loss, &new_w, &new_b}); !s.ok()) return Fail("a training step", s);
    StatusOr<double> item = loss.Item();
    if (!item.ok()) return Fail("reading the loss", item.status());
    loss_value = *item;
    std::printf("step %3d/%d  loss %.6e\n", step + 1, kSteps, loss_value);
    std::fflush(stdout);
    w = new_w;
    b = new_b;
  }

  StatusOr<std::vector<float>> w_host = w.ToFloats();
  if (!w_host.ok()) return Fail("reading w", w_host.status());
  StatusOr<std::vector<float>> b_host = b.ToFloats();
  if (!b_host.ok()) return Fail("reading b", b_host.status());
  double max_err = std::fabs((*b_host)[0] - b_true_host);
  std::printf("%-8s %10s %10s\n", "param", "true", "fitted");
  for (int64_t i = 0; i < kFeatures; ++i) {
    std::printf("w[%lld]     %10.4f %10.4f\n", static_cast<long long>(i), w_true_host[i], (*w_host)[i]);
    max_err = std::fmax(max_err, std::fabs((*w_host)[i] - w_true_host[i]));
  }
  std::printf("b        %10.4f %10.4f\n", b_true_host, (*b_host)[0]);

  ExecTotals totals = GetExecTotals();
  std::printf("final loss %.3e (threshold %.0e), max parameter error %.2e; %lld kernels, %.3f s kernel time\n",
              loss_value, kLossThreshold, max_err, static_cast<long long>(totals.kernels), totals.seconds);
  if (!(loss_value < kLossThreshold)) {
    std::fprintf(stderr, "petabox-example: did not converge: final loss %.3e >= %.0e\n", loss_value,
                 kLossThreshold);
    return 1;
  }
  std::printf("converged\n");
  return 0;
}

}  // namespace
}  // namespace petabox

int main() { return petabox::Run(); }
