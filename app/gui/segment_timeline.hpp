// The episode's timeline with its language segments as boxes: drag on empty space to add one, drag a box
// to move it, drag its edges to resize it, double-click to edit its text, Delete to remove it. Also draws
// intervention bands and the playhead; a click on empty space moves the playhead.
#pragma once

#include <QWidget>
#include <optional>

#include "recorder/labels.hpp"

namespace flywheel::gui {

class SegmentTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit SegmentTimeline(QWidget* parent = nullptr);
  void setEpisode(double duration, std::vector<Segment> segments,
                  std::vector<std::pair<double, double>> interventions);
  void setSegments(std::vector<Segment> segments);
  void setPlayhead(double seconds);
  const std::vector<Segment>& segments() const { return segments_; }
  int selected() const { return selected_; }
  void setSelectedText(const QString& text);

 Q_SIGNALS:
  void segmentsEdited();  // after each finished edit (for undo and the dirty flag)
  void selectionChanged(int index);
  void seekRequested(double seconds);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  enum class Drag { None, Create, Move, ResizeStart, ResizeEnd };
  double secondsAt(int x) const;
  int xAt(double seconds) const;
  QRect boxOf(const Segment& segment) const;
  int segmentAt(QPoint point) const;

  double duration_ = 1.0;
  std::vector<Segment> segments_;
  std::vector<std::pair<double, double>> interventions_;
  double playhead_ = 0.0;
  int selected_ = -1;
  Drag drag_ = Drag::None;
  double dragAnchor_ = 0.0;
  Segment dragOriginal_;
};

}  // namespace flywheel::gui
