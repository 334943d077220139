#pragma once
// Fixture files for the data tests, written in the real on-disk formats:
// CIFAR-10/100 binary records, big-endian IDX (plain or gzipped), image
// folders. Every test gets its own temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"

namespace strata::data::testing {

namespace fs = std::filesystem;

// A fresh directory named after the running test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            fmt::format("strata_data_{}_{}_{}", info->test_suite_name(), info->name(), ::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) throw std::runtime_error("cannot write " + path);
  gzwrite(gz, bytes.data(), unsigned(bytes.size()));
  gzclose(gz);
}

// Cuts `drop` bytes off the end of a file.
inline void truncate_file(const std::string& path, size_t drop) {
  fs::resize_file(path, fs::file_size(path) - drop);
}

// The pixel a fixture writes for (record, channel, y, x): distinct enough
// that any mix-up of records, planes or rows shows.
inline uint8_t fixture_pixel(int64_t record, int64_t c, int64_t y, int64_t x) {
  return uint8_t((record * 37 + c * 101 + y * 7 + x * 3) % 256);
}

// CIFAR records: label byte(s), then the (3, 32, 32) planes.
inline std::vector<uint8_t> cifar_records(int64_t first, int64_t count, std::initializer_list<int> label_mods) {
  std::vector<uint8_t> bytes;
  for (int64_t r = first; r < first + count; ++r) {
    for (int mod : label_mods) bytes.push_back(uint8_t(r % mod));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) bytes.push_back(fixture_pixel(r, c, y, x));
  }
  return bytes;
}

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

// IDX images (count, rows, cols) with fixture pixels, and labels i % 10.
inline std::vector<uint8_t> idx_images(int64_t count, int64_t rows, int64_t cols, uint32_t magic = 0x00000803) {
  std::vector<uint8_t> bytes;
  put_be32(bytes, magic);
  put_be32(bytes, uint32_t(count));
  put_be32(bytes, uint32_t(rows));
  put_be32(bytes, uint32_t(cols));
  for (int64_t i = 0; i < count; ++i)
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x) bytes.push_back(fixture_pixel(i, 0, y, x));
  return bytes;
}

inline std::vector<uint8_t> idx_labels(int64_t count, uint32_t magic = 0x00000801) {
  std::vector<uint8_t> bytes;
  put_be32(bytes, magic);
  put_be32(bytes, uint32_t(count));
  for (int64_t i = 0; i < count; ++i) bytes.push_back(uint8_t(i % 10));
  return bytes;
}

// Runs f, expects a strata::Error whose message contains every fragment.
template <typename F>
void expect_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << e.what();
    }
  }
}

// A synthetic in-memory dataset: n images (c, h, w) with fixture pixels and labels i % k.
inline Dataset synthetic_dataset(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k) {
  Dataset d;
  d.name = "synthetic";
  d.images = empty({n, c, h, w}, {DType::u8});
  d.labels = empty({n}, {DType::i64});
  uint8_t* px = d.images.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    d.labels.data<int64_t>()[i] = i % k;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) *px++ = fixture_pixel(i, ch, y, x);
  }
  d.num_classes = k;
  for (int64_t j = 0; j < k; ++j) d.class_names.push_back(fmt::format("class{}", j));
  return d;
}

}  // namespace strata::data::testing
