// IDX (MNIST / Fashion-MNIST) readers on big-endian fixture files, plain and
// gzipped, and the errors for truncated and corrupted ones.
#include "data/idx.h"

#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

void expect_fixture_images(const Tensor& images, int64_t count, int64_t rows, int64_t cols) {
  ASSERT_EQ(images.shape(), (Shape{count, 1, rows, cols}));
  const uint8_t* px = images.data<uint8_t>();
  for (int64_t i = 0; i < count; ++i)
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x) ASSERT_EQ(*px++, fixture_pixel(i, 0, y, x)) << i << " " << y << " " << x;
}

TEST(Idx, ReadsPlainAndGzippedFilesAlike) {
  TempDir dir;
  write_bytes(dir / "images", idx_images(5, 4, 3));
  write_gzip(dir / "images.gz", idx_images(5, 4, 3));
  write_bytes(dir / "labels", idx_labels(5));
  write_gzip(dir / "labels.gz", idx_labels(5));
  for (const char* suffix : {"", ".gz"}) {
    SCOPED_TRACE(suffix);
    expect_fixture_images(read_idx_images(dir / (std::string("images") + suffix)), 5, 4, 3);
    const Tensor labels = read_idx_labels(dir / (std::string("labels") + suffix), 10);
    EXPECT_EQ(labels.dtype(), DType::i64);
    EXPECT_EQ(labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  }
}

TEST(Idx, FashionMnistLayoutWithEitherSuffix) {
  TempDir dir;
  write_gzip(dir / "train-images-idx3-ubyte.gz", idx_images(12, 28, 28));
  write_gzip(dir / "train-labels-idx1-ubyte.gz", idx_labels(12));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(3, 28, 28));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels(3));
  const Dataset train = read_fashion_mnist(dir.str(), Split::train);
  expect_fixture_images(train.images, 12, 28, 28);
  EXPECT_EQ(train.labels.to_vector<int64_t>()[11], 1);
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.class_names[9], "Ankle boot");
  EXPECT_EQ(train.name, "fashion_mnist/train");
  const Dataset test = read_mnist(dir.str(), Split::test);
  EXPECT_EQ(test.size(), 3);
  EXPECT_EQ(test.class_names[7], "7");
  EXPECT_NO_THROW(test.validate());
}

TEST(Idx, MissingFileNamesBothCandidates) {
  TempDir dir;
  write_gzip(dir / "train-images-idx3-ubyte.gz", idx_images(2, 28, 28));
  expect_error([&] { read_fashion_mnist(dir.str(), Split::train); },
               {dir / "train-labels-idx1-ubyte.gz", dir / "train-labels-idx1-ubyte", "not found"});
  expect_error([&] { read_fashion_mnist(dir / "absent", Split::train); }, {dir / "absent", "directory not found"});
}

TEST(Idx, TruncatedPlainFileIsNamedWithByteCounts) {
  TempDir dir;
  write_bytes(dir / "images", idx_images(5, 4, 3));  // 16 + 60 bytes
  truncate_file(dir / "images", 7);
  expect_error([&] { read_idx_images(dir / "images"); },
               {dir / "images", "truncated pixel data (5 images of 4x3)", "expected 60 bytes, got 53",
                "file holds 69 bytes", "expected at least 76"});
  write_bytes(dir / "labels", idx_labels(5));
  truncate_file(dir / "labels", 6);  // into the header
  expect_error([&] { read_idx_labels(dir / "labels", 10); }, {dir / "labels", "truncated IDX labels header"});
}

TEST(Idx, TruncatedGzipFileIsNamed) {
  TempDir dir;
  write_gzip(dir / "images.gz", idx_images(50, 28, 28));
  truncate_file(dir / "images.gz", fs::file_size(dir / "images.gz") / 2);
  expect_error([&] { read_idx_images(dir / "images.gz"); }, {dir / "images.gz", "truncated"});
}

TEST(Idx, CorruptGzipStreamIsNamed) {
  TempDir dir;
  write_gzip(dir / "images.gz", idx_images(50, 28, 28));
  std::vector<uint8_t> bytes = read_bytes(dir / "images.gz");
  ASSERT_GT(bytes.size(), 200u);
  for (size_t i = 100; i < 120; ++i) bytes[i] ^= 0x5a;  // inside the deflate data
  write_bytes(dir / "images.gz", bytes);
  expect_error([&] { read_idx_images(dir / "images.gz"); }, {dir / "images.gz", "corrupt"});
}

TEST(Idx, ExtraBytesAreRefused) {
  TempDir dir;
  std::vector<uint8_t> bytes = idx_labels(4);
  bytes.push_back(0);
  bytes.push_back(1);
  write_gzip(dir / "labels.gz", bytes);
  expect_error([&] { read_idx_labels(dir / "labels.gz", 10); },
               {dir / "labels.gz", "2 extra bytes after the 4 labels", "expected 12 bytes, file holds 14"});
}

TEST(Idx, BadMagicIsNamed) {
  TempDir dir;
  write_bytes(dir / "images", idx_images(2, 4, 4, 0x00000804));
  expect_error([&] { read_idx_images(dir / "images"); },
               {dir / "images", "bad magic number 0x00000804, expected 0x00000803"});
  // Label and image files swapped.
  write_bytes(dir / "labels", idx_labels(2));
  expect_error([&] { read_idx_images(dir / "labels"); }, {dir / "labels", "bad magic", "swapped"});
  // Little-endian writers get the byte order wrong.
  std::vector<uint8_t> little = idx_labels(2);
  std::reverse(little.begin(), little.begin() + 4);
  write_bytes(dir / "little", little);
  expect_error([&] { read_idx_labels(dir / "little", 10); }, {dir / "little", "0x01080000"});
}

TEST(Idx, LabelOutOfRangeAndCountMismatchAreNamed) {
  TempDir dir;
  std::vector<uint8_t> labels = idx_labels(6);
  labels[8 + 4] = 10;
  write_bytes(dir / "labels", labels);
  expect_error([&] { read_idx_labels(dir / "labels", 10); },
               {dir / "labels", "label 10 at index 4", "byte offset 12", "out of range 0..9"});

  write_bytes(dir / "images", idx_images(6, 2, 2));
  write_bytes(dir / "labels", idx_labels(5));
  expect_error([&] { read_idx_dataset(dir / "images", dir / "labels", "mnist/train", std::vector<std::string>(10)); },
               {dir / "images", "6 images", dir / "labels", "5 labels"});
}

}  // namespace
}  // namespace strata::data
