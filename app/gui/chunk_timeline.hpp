// The last seconds of a policy run: one row per answered request, a grey bar from the request to the
// answer (the latency) and a coloured bar for the steps the chunk covers (green accepted, red refused),
// with "now" at the right edge. Shows at a glance whether chunks arrive before the plan runs out. With a
// fallback policy, its chunks are drawn in purple, and a strip along the bottom shows what drove each
// moment: main policy (green), fallback (purple), human (orange), nobody, holding (red).
#pragma once

#include <QColor>
#include <QWidget>
#include <deque>

#include "policy/chunk_executor.hpp"

namespace flywheel::gui {

class ChunkTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit ChunkTimeline(QWidget* parent = nullptr);
  // events: the executor's recent answers; now: rig clock; stepSeconds: one policy step.
  void setEvents(std::deque<ChunkEvent> events, double now, double stepSeconds);
  void setFallbackEvents(std::deque<ChunkEvent> events);  // the fallback executor's answers
  void addSource(double time, PolicySource source);       // what drove at `time` (rig clock)
  void clearSources() { sources_.clear(); }
  static QColor colourOf(PolicySource source);
  QSize sizeHint() const override { return {360, 140}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  double xAt(double t) const;  // rig clock seconds to pixels
  void paintChunks(QPainter& p, const std::deque<ChunkEvent>& events, bool fallback, int& index);
  void paintSources(QPainter& p);
  std::deque<ChunkEvent> events_, fallbackEvents_;
  std::deque<std::pair<double, PolicySource>> sources_;
  double now_ = 0.0;
  double stepSeconds_ = 0.02;
  static constexpr double kWindowSeconds = 6.0;
};

}  // namespace flywheel::gui
