// Image-folder reader on PNG / BMP / PPM / JPEG files written by the test
// (stb_image_write from Debian's libstb, and a hand-written PPM).
#include "data/image_folder.h"

#include <stb/stb_image_write.h>

#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

// Interleaved RGB (h, w, 3) pixels that encode the image id.
std::vector<uint8_t> rgb_pixels(int64_t id, int64_t h, int64_t w) {
  std::vector<uint8_t> px;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < 3; ++c) px.push_back(fixture_pixel(id, c, y, x));
  return px;
}

void write_png(const std::string& path, int64_t id, int64_t h, int64_t w) {
  fs::create_directories(fs::path(path).parent_path());
  const std::vector<uint8_t> px = rgb_pixels(id, h, w);
  ASSERT_TRUE(stbi_write_png(path.c_str(), int(w), int(h), 3, px.data(), int(w * 3))) << path;
}

// Binary PPM (P6): trivial to write by hand, decoded by stb_image.
void write_ppm(const std::string& path, int64_t id, int64_t h, int64_t w) {
  const std::string header = fmt::format("P6\n{} {}\n255\n", w, h);
  std::vector<uint8_t> bytes(header.begin(), header.end());
  const std::vector<uint8_t> px = rgb_pixels(id, h, w);
  bytes.insert(bytes.end(), px.begin(), px.end());
  write_bytes(path, bytes);
}

void expect_image(const Dataset& d, int64_t index, int64_t id) {
  const int64_t h = d.height(), w = d.width();
  const uint8_t* px = d.images.data<uint8_t>() + index * 3 * h * w;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) ASSERT_EQ(px[(c * h + y) * w + x], fixture_pixel(id, c, y, x)) << index;
}

TEST(ImageFolder, ClassesAndFilesSortedByName) {
  TempDir dir;
  write_png(dir / "cat/b.png", 1, 5, 7);
  write_png(dir / "cat/a.png", 2, 5, 7);
  write_ppm(dir / "ant/z.ppm", 3, 5, 7);
  write_bytes(dir / "ant/notes.txt", {'h', 'i'});       // not an image: ignored
  write_png(dir / ".hidden/x.png", 4, 5, 7);           // hidden: ignored
  const Dataset d = read_image_folder(dir.str());
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "cat"}));
  EXPECT_EQ(d.num_classes, 2);
  ASSERT_EQ(d.images.shape(), (Shape{3, 3, 5, 7}));
  EXPECT_EQ(d.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1}));
  expect_image(d, 0, 3);  // ant/z.ppm
  expect_image(d, 1, 2);  // cat/a.png
  expect_image(d, 2, 1);  // cat/b.png
  EXPECT_NO_THROW(d.validate());
}

TEST(ImageFolder, GreyConversionBmpAndJpeg) {
  TempDir dir;
  const std::vector<uint8_t> px = rgb_pixels(0, 4, 4);
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  ASSERT_TRUE(stbi_write_bmp((dir / "a/1.BMP").c_str(), 4, 4, 3, px.data()));
  ASSERT_TRUE(stbi_write_jpg((dir / "b/1.jpg").c_str(), 4, 4, 3, px.data(), 95));
  const Dataset d = read_image_folder(dir.str(), {.channels = 1});
  ASSERT_EQ(d.images.shape(), (Shape{2, 1, 4, 4}));
  // stb's grey is (77 R + 150 G + 29 B) >> 8, exact for the lossless BMP.
  for (int64_t p = 0; p < 16; ++p) {
    const int expected = (77 * px[size_t(3 * p)] + 150 * px[size_t(3 * p + 1)] + 29 * px[size_t(3 * p + 2)]) >> 8;
    EXPECT_EQ(d.images.data<uint8_t>()[p], expected) << p;
  }
}

TEST(ImageFolder, SizesMustMatchUnlessResized) {
  TempDir dir;
  write_png(dir / "a/1.png", 1, 8, 8);
  write_png(dir / "b/2.png", 2, 6, 10);
  expect_error([&] { read_image_folder(dir.str()); }, {dir / "b/2.png", "10x6", "first image is 8x8", "image_size"});
  // A constant image stays constant through the filtered resize.
  std::vector<uint8_t> flat(6 * 10 * 3, 77);
  ASSERT_TRUE(stbi_write_png((dir / "b/2.png").c_str(), 10, 6, 3, flat.data(), 30));
  const Dataset d = read_image_folder(dir.str(), {.channels = 3, .image_size = 5});
  ASSERT_EQ(d.images.shape(), (Shape{2, 3, 5, 5}));
  for (int64_t i = 0; i < 75; ++i) EXPECT_EQ(d.images.data<uint8_t>()[75 + i], 77);
}

TEST(ImageFolder, CorruptImageEmptyClassAndMissingRootAreNamed) {
  TempDir dir;
  write_png(dir / "a/1.png", 1, 4, 4);
  write_bytes(dir / "a/2.png", {0x89, 'P', 'N', 'G', 1, 2, 3});
  expect_error([&] { read_image_folder(dir.str()); }, {dir / "a/2.png", "cannot decode"});
  fs::remove(dir / "a/2.png");
  // A truncated PNG: the first half of a real one.
  write_png(dir / "a/3.png", 3, 16, 16);
  truncate_file(dir / "a/3.png", fs::file_size(dir / "a/3.png") / 2);
  expect_error([&] { read_image_folder(dir.str()); }, {dir / "a/3.png", "cannot decode"});
  fs::remove(dir / "a/3.png");
  fs::create_directories(dir / "empty");
  expect_error([&] { read_image_folder(dir.str()); }, {dir / "empty", "holds no images"});
  expect_error([&] { read_image_folder(dir / "nowhere"); }, {dir / "nowhere", "directory not found"});
  expect_error([&] { read_image_folder(dir.str(), {.channels = 4}); }, {"channels must be 1 or 3"});
}

}  // namespace
}  // namespace strata::data
