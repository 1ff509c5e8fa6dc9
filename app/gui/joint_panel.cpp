#include "app/gui/joint_panel.hpp"

#include <QPainter>
#include <algorithm>

namespace flywheel::gui {

namespace {
constexpr int kRowHeight = 22;
}  // namespace

JointPanel::JointPanel(const RigConfig& rig, QWidget* parent) : QWidget(parent) {
  for (const ArmConfig* arm : rig.followers())
    for (const JointConfig& joint : arm->joints)
      rows_.push_back({QString::fromStdString(arm->name + " / " + joint.name), joint.min, joint.max});
  for (const Row& row : rows_)
    labelWidth_ = std::max(labelWidth_, fontMetrics().horizontalAdvance(row.label) + 16);
  setMinimumWidth(labelWidth_ + 160);
  setMinimumHeight(static_cast<int>(rows_.size()) * kRowHeight + 40);
}

void JointPanel::show(const LoopStatus& status) {
  status_ = status;
  update();
}

void JointPanel::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.fillRect(rect(), palette().window());
  painter.setPen(palette().text().color());
  painter.drawText(QRect(8, 4, width() - 16, 20), Qt::AlignLeft | Qt::AlignVCenter,
                   "Joints  (bar: follower, line: leader)");
  const int barWidth = width() - labelWidth_ - 20;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    const int y = 30 + static_cast<int>(i) * kRowHeight;
    painter.setPen(palette().text().color());
    painter.drawText(QRect(8, y, labelWidth_ - 8, kRowHeight - 4), Qt::AlignLeft | Qt::AlignVCenter,
                     row.label);
    QRect track(labelWidth_, y + 4, barWidth, kRowHeight - 10);
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(60, 64, 72));
    painter.drawRoundedRect(track, 3, 3);
    auto xOf = [&](double value) {
      double t = std::clamp((value - row.min) / (row.max - row.min), 0.0, 1.0);
      return track.left() + static_cast<int>(t * track.width());
    };
    const int zeroX = xOf(std::clamp(0.0, row.min, row.max));
    if (i < status_.followers.position.size()) {
      const int x = xOf(status_.followers.position[i]);
      painter.setBrush(QColor(64, 156, 255));
      painter.drawRect(
          QRect(QPoint(std::min(zeroX, x), track.top()), QPoint(std::max(zeroX, x), track.bottom())));
    }
    if (i < status_.leaders.position.size()) {
      const int x = xOf(status_.leaders.position[i]);
      painter.setPen(QPen(QColor(255, 184, 64), 3));
      painter.drawLine(x, track.top() - 3, x, track.bottom() + 3);
    }
  }
}

}  // namespace flywheel::gui
