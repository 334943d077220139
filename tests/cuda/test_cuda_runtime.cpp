// The CUDA backend's plumbing: what a machine without a GPU must report,
// device copies in every direction with dtype conversion, the caching
// allocator's steady state, Module::to.
#include <gtest/gtest.h>

#include <string>

#include "layers/linear.h"
#include "tests/cuda/cuda_test_util.h"

namespace strata::testing {
namespace {

// ---- without a GPU (these run here, not skipped) ------------------------------------------

TEST(CudaRuntime, UsingACudaTensorWithoutADeviceIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present: nothing to refuse";
  try {
    Tensor t = empty({2, 3}, {DType::f32, kCuda});
    FAIL() << "expected strata::Error, got a tensor on " << t.device().str();
  } catch (const Error& e) {
    const std::string message = e.what();
#ifdef STRATA_HAS_CUDA
    EXPECT_EQ(message.rfind("no CUDA device: ", 0), 0u) << message;
#else
    EXPECT_NE(message.find("built without CUDA"), std::string::npos) << message;
#endif
  }
  // The same for a copy to the device, and the CPU still works afterwards.
  EXPECT_THROW(cpu_randn({4}, 1).to(kCuda), Error);
  EXPECT_EQ(ops::sum(ones({3})).item<float>(), 3.0f);
}

TEST(CudaRuntime, DeviceNamesParse) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(parse_device("cuda"), Device::cuda(0));
  EXPECT_EQ(parse_device("cuda:3"), Device::cuda(3));
  EXPECT_EQ(parse_device(Device::cuda(12).str()), Device::cuda(12));
  for (const char* bad : {"", "gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", "cuda:123456"}) {
    EXPECT_FALSE(parse_device(bad).has_value()) << bad;
  }
}

TEST(CudaRuntime, ToTheSameDeviceIsTheTensorItself) {
  Tensor x = cpu_randn({2, 3}, 2);
  EXPECT_TRUE(x.to(Device::cpu()).is_same(x));
}

// Pinned memory is page-locked exactly when a GPU is there to use it; the
// tensors work the same either way, and pinning device memory is refused.
TEST(CudaRuntime, PinnedHostTensorsFallBackToPlainMemory) {
  const Tensor pinned = full({3, 4}, 2.5, {DType::f32, Device::cpu(), /*pinned=*/true});
  EXPECT_EQ(pinned.is_pinned(), cuda_available());
  EXPECT_EQ(pinned_memory_available(), cuda_available());
  EXPECT_FALSE(ones({2}).is_pinned());
  EXPECT_EQ(ops::sum(pinned).item<float>(), 30.0f);
  EXPECT_THROW(empty({2}, {DType::f32, kCuda, /*pinned=*/true}), Error);
}

#ifdef STRATA_HAS_CUDA
TEST(CudaRuntime, DeviceListExplainsAnEmptyList) {
  std::string reason;
  std::vector<cuda::DeviceInfo> devices = cuda::list_devices(&reason);
  if (devices.empty()) {
    EXPECT_FALSE(reason.empty());
  } else {
    EXPECT_GT(devices[0].total_memory, 0u);
    EXPECT_GE(devices[0].major, 7);
  }
}
#endif

// ---- with a GPU ----------------------------------------------------------------------------------

class CudaCopy : public CudaTest {};

TEST_F(CudaCopy, RoundTripsEveryDtype) {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::i32, DType::i64, DType::u8}) {
    Tensor x = ops::cast(ops::mul_scalar(cpu_randn({3, 5}, 3, DType::f64), 10.0), dtype);
    Tensor back = x.to(kCuda).to(Device::cpu());
    EXPECT_EQ(back.dtype(), dtype);
    expect_close(back, x, {0, 0}, std::string("round trip ") + std::string(dtype_name(dtype)));
  }
}

TEST_F(CudaCopy, CastsOnTheDeviceLikeTheCpu) {
  // Exact: conversions are the same C++ casts and the same bf16 rounding.
  Tensor x = ops::mul_scalar(cpu_randn({4, 7}, 4, DType::f32), 50.0);
  for (DType to : {DType::f64, DType::bf16, DType::i32, DType::i64, DType::u8}) {
    if (to == DType::u8) x = ops::unary(UnaryOp::abs, x);  // negative to u8 is undefined in C++
    Tensor gpu = ops::cast(x.to(kCuda), to);
    EXPECT_EQ(gpu.device(), kCuda);
    expect_close(gpu, ops::cast(x, to), {0, 0}, std::string("cast to ") + std::string(dtype_name(to)));
  }
}

TEST_F(CudaCopy, StridedViewsInEveryDirection) {
  Tensor x = cpu_randn({4, 6, 5}, 5);
  Tensor view = ops::slice(ops::transpose(x, 0, 2), 1, 1, 5, 2);  // non-contiguous on the host
  expect_close(view.to(kCuda), view, {0, 0}, "host view to device");
  Tensor dev = x.to(kCuda);
  Tensor dev_view = ops::slice(ops::transpose(dev, 0, 2), 1, 1, 5, 2);
  expect_close(dev_view, view, {0, 0}, "device view to host");
  expect_close(ops::contiguous(dev_view), view, {0, 0}, "device view made contiguous on the device");
  // Into a strided destination on the device.
  Tensor dst = zeros({5, 4}, {DType::f64, kCuda});
  ops::copy_(ops::transpose(dst, 0, 1), ops::cast(ops::slice(x, 1, 0, 1).squeeze(1), DType::f64).to(kCuda));
  expect_close(dst, ops::transpose(ops::cast(ops::slice(x, 1, 0, 1).squeeze(1), DType::f64), 0, 1), {0, 0},
               "into a transposed view");
}

// Copies from pinned memory run asynchronously. Each source here is freed
// right after its copy is queued, and the next batch reuses the cached
// block at once (the loader's pattern); every device copy must still hold
// its own batch, so the backend may not let a block go back to the cache
// while its transfer is in flight. The batches are large enough (32 MiB)
// that the host refills a block long before a transfer could have ended.
TEST_F(CudaCopy, PinnedSourcesSurviveUntilTheirCopyEnds) {
  std::vector<Tensor> on_device;
  const int64_t n = int64_t(8) << 20;
  for (int i = 0; i < 6; ++i) {
    Tensor batch = full({n}, double(i + 1), {DType::f32, Device::cpu(), /*pinned=*/true});
    ASSERT_TRUE(batch.is_pinned());
    on_device.push_back(batch.to(kCuda));
  }
  synchronize(kCuda);
  for (int i = 0; i < 6; ++i) {
    const auto [low, high] = std::pair(ops::max(ops::neg(on_device[size_t(i)]), 0).first.item<double>(),
                                       ops::max(on_device[size_t(i)], 0).first.item<double>());
    EXPECT_EQ(-low, double(i + 1)) << "batch " << i;
    EXPECT_EQ(high, double(i + 1)) << "batch " << i;
  }
}

TEST_F(CudaCopy, AllocatorStopsAllocatingInASteadyState) {
  Allocator& alloc = backend_for(kCuda).allocator();
  Tensor a = cpu_randn({64, 64}, 6).to(kCuda), b = cpu_randn({64, 64}, 7).to(kCuda);
  auto step = [&] {
    Tensor c = ops::matmul(a, b);
    Tensor s = ops::softmax(ops::add(c, a), -1);
    return ops::sum(s).item<double>();
  };
  step();
  step();
  const uint64_t before = alloc.stats().system_allocs;
  for (int i = 0; i < 5; ++i) step();
  EXPECT_EQ(alloc.stats().system_allocs, before) << "cudaMalloc in a steady-state step";
  EXPECT_GT(alloc.stats().cache_hits, 0u);
}

TEST_F(CudaCopy, ModuleToMovesParametersInPlace) {
  Generator gen(8);
  Linear layer(6, 4, {.generator = &gen});
  Tensor weight_handle = layer.weight;  // a handle taken before the move follows it
  Tensor before = ops::clone(layer.weight);
  layer.to(kCuda);
  for (const Tensor& p : layer.parameters()) {
    EXPECT_EQ(p.device(), kCuda);
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  EXPECT_EQ(weight_handle.device(), kCuda);
  expect_close(layer.weight, before, {0, 0}, "moved weight");
  layer.to(Device::cpu());
  EXPECT_EQ(layer.weight.device(), Device::cpu());
  expect_close(layer.weight, before, {0, 0}, "weight moved back");
}

}  // namespace
}  // namespace strata::testing
