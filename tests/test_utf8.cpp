// The UTF-8 check every entry point uses, against a reference built from the definition (decode by bit
// arithmetic, then require the shortest encoding, no surrogate, nothing above U+10FFFF): every sequence of
// one to three bytes, every 4-byte sequence with a 4-byte lead, and random strings with real text mixed in.
#include <QtTest>

#include <random>

#include "core/utf8.hpp"

using namespace flywheel;

namespace {

std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Valid iff the bytes split into sequences that each decode to a scalar value whose shortest encoding
// is exactly those bytes.
bool referenceValid(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    const std::size_t length = lead < 0x80         ? 1
                               : lead >> 5 == 0x6  ? 2
                               : lead >> 4 == 0xE  ? 3
                               : lead >> 3 == 0x1E ? 4
                                                   : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto b = static_cast<std::uint8_t>(text[i + k]);
      if (b >> 6 != 0x2) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (encode(cp) != text.substr(i, length)) return false;  // overlong
    i += length;
  }
  return true;
}

int compareAll(const std::string& text) {
  const bool valid = utf8Problem(text).empty();
  if (valid != referenceValid(text)) {
    QString bytes;
    for (char c : text)
      bytes += QString::asprintf("%02x ", static_cast<std::uint8_t>(c));
    qWarning("disagree on %s: check says %s", qPrintable(bytes), valid ? "valid" : "invalid");
    return 1;
  }
  return 0;
}

}  // namespace

class Utf8Test : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void everyShortSequenceAgreesWithTheDefinition() {
    int disagreements = 0;
    for (std::uint32_t v = 0; v < (1u << 24) && disagreements < 10; ++v) {
      const std::string three{static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
      disagreements += compareAll(three);
      if ((v >> 16) == 0) disagreements += compareAll(three.substr(1));  // every 2-byte sequence
      if ((v >> 8) == 0) disagreements += compareAll(three.substr(2));   // every byte
    }
    for (std::uint32_t v = 0; v < (1u << 24) && disagreements < 10; ++v)
      for (std::uint8_t lead = 0xF0; lead <= 0xF7; ++lead)
        if ((v & 0xC0C0C0) == 0x808080 || (v & 0xFF) == 0x41)
          disagreements += compareAll(std::string{static_cast<char>(lead), static_cast<char>(v >> 16),
                                                  static_cast<char>(v >> 8), static_cast<char>(v)});
    QCOMPARE(disagreements, 0);
  }

  void randomTextAgrees() {
    std::mt19937 random(11);
    const std::string pieces[] = {
        "pick up the cube", "pièce",    "立方体", "🤖", "\xff", "\xc0\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xe2\x82", "\x80",   "a"};
    int disagreements = 0;
    for (int n = 0; n < 200000 && disagreements < 10; ++n) {
      std::string text;
      const int parts = static_cast<int>(random() % 6);
      for (int p = 0; p < parts; ++p)
        text +=
            random() % 3 ? pieces[random() % std::size(pieces)] : std::string(1, static_cast<char>(random()));
      disagreements += compareAll(text);
    }
    QCOMPARE(disagreements, 0);
  }

  void problemNamesTheByte() {
    QCOMPARE(QString::fromStdString(utf8Problem("pièce")), QString());
    QCOMPARE(QString::fromStdString(utf8Problem("ab\xff")), QString("byte 3 (0xff) is not valid UTF-8"));
    QCOMPARE(QString::fromStdString(utf8Problem("\xe2\x82")), QString("byte 1 (0xe2) is not valid UTF-8"));
    try {
      requireUtf8("--task", "\xc0\xaf");
      QFAIL("an overlong '/' must be refused");
    } catch (const std::invalid_argument& e) {
      QCOMPARE(QString(e.what()), QString("--task: byte 1 (0xc0) is not valid UTF-8; text must be UTF-8"));
    }
  }
};

QTEST_GUILESS_MAIN(Utf8Test)
#include "test_utf8.moc"
