// A table cell that sorts by a number of its own (ticks, seconds, counts) instead of by its text, so 10
// sorts after 9. Cells of any other kind compare as text.
#pragma once

#include <QTableWidgetItem>

namespace flywheel::gui {

class SortableItem : public QTableWidgetItem {
 public:
  SortableItem(const QString& text, double key);
  bool operator<(const QTableWidgetItem& other) const override;

 private:
  double key_;
};

}  // namespace flywheel::gui
