// Leader against follower for every joint: the follower as a bar within the joint's limits, the leader
// (what the operator commands) as a marker, so lag or a stuck joint is visible at a glance.
#pragma once

#include <QWidget>

#include "core/config.hpp"
#include "core/control_loop.hpp"

namespace flywheel::gui {

class JointPanel : public QWidget {
  Q_OBJECT
 public:
  JointPanel(const RigConfig& rig, QWidget* parent = nullptr);
  void show(const LoopStatus& status);

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  struct Row {
    QString label;
    double min, max;
  };
  std::vector<Row> rows_;
  int labelWidth_ = 0;
  LoopStatus status_;
};

}  // namespace flywheel::gui
