// Dynamixel 2.0 and Feetech STS packets as bytes: the published vectors, stuffing, checksums, and a parser
// that survives garbage and partial input.
#include <QtTest>

#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"

using namespace flywheel;
using Bytes = std::vector<std::uint8_t>;

class ServoProtocolTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void dynamixelPingVector() {
    QCOMPARE(dynamixel::ping(1), (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x03, 0x00, 0x01, 0x19, 0x4E}));
  }

  void dynamixelReadVector() {
    // ROBOTIS e-Manual: read id 1, address 132, 4 bytes.
    QCOMPARE(dynamixel::read(1, 132, 4),
             (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x07, 0x00, 0x02, 0x84, 0x00, 0x04, 0x00, 0x1D, 0x15}));
  }

  void feetechReadVector() {
    QCOMPARE(feetech::read(1, 56, 2), (Bytes{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}));
  }

  void dynamixelStuffingRoundTrip() {
    const Bytes data{0xFF, 0xFF, 0xFD, 0x01, 0xFF, 0xFF, 0xFD};
    Bytes packet = dynamixel::write(7, 116, data);
    // Two FF FF FD runs in the parameters: two stuffed FD bytes, counted in the length.
    const std::size_t stuffedPayload = 1 + 2 + data.size() + 2;  // instruction, address, data, two stuffed FD
    QCOMPARE(packet.size(), 4 + 1 + 2 + stuffedPayload + 2);
    QCOMPARE(static_cast<std::size_t>(packet[5] | (packet[6] << 8)), stuffedPayload + 2);
    auto parsed = dynamixel::parse(packet);
    QCOMPARE(parsed.status, dynamixel::ParseStatus::Ok);
    QCOMPARE(parsed.consumed, packet.size());
    QCOMPARE(parsed.packet.id, std::uint8_t(7));
    QCOMPARE(parsed.packet.instruction, std::uint8_t(dynamixel::kWrite));
    Bytes expected{116, 0};
    expected.insert(expected.end(), data.begin(), data.end());
    QCOMPARE(parsed.packet.params, expected);
  }

  void dynamixelStatusWithAlertAndError() {
    Bytes status = dynamixel::statusPacket(3, dynamixel::kAlertBit | 4, Bytes{0x10, 0x20});
    auto parsed = dynamixel::parse(status);
    QCOMPARE(parsed.status, dynamixel::ParseStatus::Ok);
    QCOMPARE(parsed.packet.instruction, std::uint8_t(dynamixel::kStatus));
    QCOMPARE(parsed.packet.error, std::uint8_t(0x84));
    QCOMPARE(parsed.packet.params, (Bytes{0x10, 0x20}));
    QCOMPARE(QString(dynamixel::errorName(parsed.packet.error)), QString("data range error"));
  }

  void dynamixelParserSkipsGarbageAndWaits() {
    Bytes stream{0x00, 0xFF, 0x42, 0xFF, 0xFF};
    Bytes ping = dynamixel::ping(9);
    Bytes partial = stream;
    partial.insert(partial.end(), ping.begin(), ping.begin() + 6);
    auto waiting = dynamixel::parse(partial);
    QCOMPARE(waiting.status, dynamixel::ParseStatus::NeedMore);
    stream.insert(stream.end(), ping.begin(), ping.end());
    auto parsed = dynamixel::parse(stream);
    QCOMPARE(parsed.status, dynamixel::ParseStatus::Ok);
    QCOMPARE(parsed.packet.id, std::uint8_t(9));
    QCOMPARE(parsed.consumed, stream.size());
  }

  void dynamixelCorruptCrcDetected() {
    Bytes packet = dynamixel::statusPacket(1, 0, Bytes{1, 2, 3});
    packet[9] ^= 0x01;
    auto parsed = dynamixel::parse(packet);
    QCOMPARE(parsed.status, dynamixel::ParseStatus::BadCrc);
    QCOMPARE(parsed.consumed, packet.size());
  }

  void syncPacketsLayout() {
    const Bytes ids{1, 2};
    Bytes read = dynamixel::syncRead(ids, 132, 4);
    auto parsed = dynamixel::parse(read);
    QCOMPARE(parsed.packet.id, std::uint8_t(0xFE));
    QCOMPARE(parsed.packet.params, (Bytes{132, 0, 4, 0, 1, 2}));
    const Bytes goals{0x00, 0x08, 0x10, 0x08};
    auto write = feetech::parse(feetech::syncWrite(ids, 42, 2, goals));
    QCOMPARE(write.status, feetech::ParseStatus::Ok);
    QCOMPARE(write.packet.instructionOrError, std::uint8_t(feetech::kSyncWrite));
    QCOMPARE(write.packet.params, (Bytes{42, 2, 1, 0x00, 0x08, 2, 0x10, 0x08}));
  }

  void feetechChecksumAndGarbage() {
    Bytes reply = feetech::statusPacket(1, 0x20, Bytes{0x00, 0x08});
    Bytes stream{0xFF, 0xFF, 0xFF, 0x13};
    stream.insert(stream.end(), reply.begin(), reply.end());
    auto parsed = feetech::parse(stream);
    QCOMPARE(parsed.status, feetech::ParseStatus::Ok);
    QCOMPARE(parsed.packet.instructionOrError, std::uint8_t(0x20));
    QCOMPARE(feetech::describeError(0x20), std::string("overload"));
    reply.back() ^= 0xFF;
    QCOMPARE(feetech::parse(reply).status, feetech::ParseStatus::BadChecksum);
  }

  void feetechSignMagnitude() {
    QCOMPARE(feetech::encodeSignMagnitude(-100, 15), std::uint16_t(0x8064));
    QCOMPARE(feetech::decodeSignMagnitude(0x8064, 15), -100);
    QCOMPARE(feetech::decodeSignMagnitude(0x0064, 15), 100);
    QCOMPARE(feetech::encodeSignMagnitude(-5, 11), std::uint16_t(0x0805));
    QCOMPARE(feetech::decodeSignMagnitude(0x0805, 11), -5);
  }
};

QTEST_GUILESS_MAIN(ServoProtocolTest)
#include "test_servo_protocols.moc"
