// Dynamixel 2.0 and Feetech STS packets as bytes: the published vectors, stuffing, checksums, and a parser
// that survives garbage and partial input; each vendor's ServoProtocol sends and reads the same bytes.
#include <QtTest>

#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"
#include "devices/servo/servo_protocol.hpp"

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
  // Every verb the bus sends, byte for byte as the free functions built it before the interface (the
  // Dynamixel read and sync read are the ROBOTIS e-Manual's examples).
  void dynamixelProtocolPackets() {
    auto dxl = makeServoProtocol(BusProtocol::Dynamixel);
    QCOMPARE(int(dxl->kind()), int(BusProtocol::Dynamixel));
    const Bytes ids{1, 2}, goal{0x00, 0x08, 0x00, 0x00},
        goals{0x00, 0x08, 0x00, 0x00, 0x10, 0x08, 0x00, 0x00};
    QCOMPARE(dxl->ping(1), (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x03, 0x00, 0x01, 0x19, 0x4E}));
    QCOMPARE(dxl->read(1, 132, 4),
             (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x07, 0x00, 0x02, 0x84, 0x00, 0x04, 0x00, 0x1D, 0x15}));
    QCOMPARE(dxl->write(1, 116, goal), (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x09, 0x00, 0x03, 0x74, 0x00,
                                              0x00, 0x08, 0x00, 0x00, 0x42, 0x89}));
    QCOMPARE(dxl->syncRead(ids, 132, 4), (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0xFE, 0x09, 0x00, 0x82, 0x84, 0x00,
                                                0x04, 0x00, 0x01, 0x02, 0xCE, 0xFA}));
    QCOMPARE(dxl->syncWrite(ids, 116, 4, goals),
             (Bytes{0xFF, 0xFF, 0xFD, 0x00, 0xFE, 0x11, 0x00, 0x83, 0x74, 0x00, 0x04, 0x00,
                    0x01, 0x00, 0x08, 0x00, 0x00, 0x02, 0x10, 0x08, 0x00, 0x00, 0x6E, 0x0C}));
    QCOMPARE(dxl->statusOverhead(), dynamixel::kStatusOverhead);
  }

  void feetechProtocolPackets() {
    auto sts = makeServoProtocol(BusProtocol::Feetech);
    QCOMPARE(int(sts->kind()), int(BusProtocol::Feetech));
    const Bytes ids{1, 2}, one{1}, goals{0x00, 0x08, 0x10, 0x08};
    QCOMPARE(sts->ping(1), (Bytes{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB}));
    QCOMPARE(sts->read(1, 56, 2), (Bytes{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}));
    QCOMPARE(sts->write(1, 40, one), (Bytes{0xFF, 0xFF, 0x01, 0x04, 0x03, 0x28, 0x01, 0xCE}));
    QCOMPARE(sts->syncRead(ids, 56, 6), (Bytes{0xFF, 0xFF, 0xFE, 0x06, 0x82, 0x38, 0x06, 0x01, 0x02, 0x38}));
    QCOMPARE(sts->syncWrite(ids, 42, 2, goals),
             (Bytes{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x10, 0x08, 0x25}));
    QCOMPARE(sts->statusOverhead(), feetech::kStatusOverhead);
  }

  // A Dynamixel request echoed on the line is skipped, not taken for a reply; damage is named per vendor.
  void protocolsReadReplies() {
    auto dxl = makeServoProtocol(BusProtocol::Dynamixel);
    Bytes stream = dynamixel::ping(3);
    const std::size_t echo = stream.size();
    const Bytes status = dynamixel::statusPacket(3, 0x80, Bytes{0x10, 0x20});
    stream.insert(stream.end(), status.begin(), status.end());
    StatusParse skipped = dxl->parseStatus(stream);
    QCOMPARE(int(skipped.outcome), int(StatusParse::Outcome::Nothing));
    QCOMPARE(skipped.consumed, echo);
    StatusParse reply = dxl->parseStatus(std::span(stream).subspan(echo));
    QCOMPARE(int(reply.outcome), int(StatusParse::Outcome::Reply));
    QCOMPARE(reply.consumed, status.size());
    QCOMPARE(reply.reply.id, std::uint8_t(3));
    QCOMPARE(reply.reply.error, std::uint8_t(0x80));
    QCOMPARE(reply.reply.params, (Bytes{0x10, 0x20}));
    Bytes corrupt = status;
    corrupt[9] ^= 0x01;
    StatusParse damaged = dxl->parseStatus(corrupt);
    QCOMPARE(int(damaged.outcome), int(StatusParse::Outcome::Corrupt));
    QCOMPARE(QString(damaged.problem), QString("corrupt reply (CRC error)"));

    auto sts = makeServoProtocol(BusProtocol::Feetech);
    Bytes ftReply = feetech::statusPacket(2, 0x20, Bytes{0x00, 0x08});
    StatusParse ft = sts->parseStatus(ftReply);
    QCOMPARE(int(ft.outcome), int(StatusParse::Outcome::Reply));
    QCOMPARE(ft.reply.id, std::uint8_t(2));
    QCOMPARE(ft.reply.error, std::uint8_t(0x20));
    QCOMPARE(ft.reply.params, (Bytes{0x00, 0x08}));
    ftReply.back() ^= 0xFF;
    StatusParse ftDamaged = sts->parseStatus(ftReply);
    QCOMPARE(int(ftDamaged.outcome), int(StatusParse::Outcome::Corrupt));
    QCOMPARE(QString(ftDamaged.problem), QString("corrupt reply (checksum error)"));
    QCOMPARE(int(sts->parseStatus(Bytes{0xFF, 0xFF, 0x02}).outcome), int(StatusParse::Outcome::Nothing));
  }

  // A Dynamixel error number refuses the instruction, its alert bit alone does not; Feetech never refuses.
  // The ping, EEPROM lock and id register differ as the bus relies on.
  void protocolsDiffer() {
    auto dxl = makeServoProtocol(BusProtocol::Dynamixel);
    auto sts = makeServoProtocol(BusProtocol::Feetech);
    ServoAlert alert = dxl->describeAlert(dynamixel::kAlertBit);
    QVERIFY(!alert.refused);
    QCOMPARE(alert.problem, std::string("hardware error alert (read Hardware Error Status, 70)"));
    alert = dxl->describeAlert(dynamixel::kAlertBit | 4);
    QVERIFY(alert.refused);
    QCOMPARE(alert.problem, std::string("data range error"));
    alert = sts->describeAlert(0x24);
    QVERIFY(!alert.refused);
    QCOMPARE(alert.problem, std::string("overheat, overload"));

    QCOMPARE(dxl->pingReplyParams(), std::size_t(3));
    QVERIFY(!dxl->modelNumberRegister());
    QVERIFY(!dxl->locksEeprom());
    QCOMPARE(sts->pingReplyParams(), std::size_t(0));
    QCOMPARE(sts->modelNumberRegister()->address, std::uint16_t(3));
    QCOMPARE(sts->modelNumberRegister()->size, std::uint8_t(2));
    QVERIFY(sts->locksEeprom());
    QCOMPARE(sts->idAddress(), std::uint16_t(5));
  }
};

QTEST_GUILESS_MAIN(ServoProtocolTest)
#include "test_servo_protocols.moc"
