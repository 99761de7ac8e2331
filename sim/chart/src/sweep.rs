//! Charts of a sweep: means with 95% confidence intervals.
//!
//! - [`bars`]: one group of bars per category (a value of a categorical
//!   parameter, e.g. the routing mode), one bar per series, each with its
//!   interval.
//! - [`intervals`]: a metric against a numeric parameter, one line per
//!   series, an interval bar at every point.
//!
//! Both write PNG and SVG through the same backend-generic drawing, with the
//! embedded font and palette of the crate root.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ChartError, FONT_FAMILY, PALETTE, SIZE, data_range, ensure_font, frame, legend_headroom, mesh, tick_label, with_suffix};

/// A mean and the half-width of its 95% confidence interval (`None` when
/// it could not be estimated, e.g. from one replication).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub half_width: Option<f64>,
}

impl Interval {
    fn low(&self) -> f64 {
        self.mean - self.half_width.unwrap_or(0.0)
    }
    fn high(&self) -> f64 {
        self.mean + self.half_width.unwrap_or(0.0)
    }
    fn finite(&self) -> bool {
        self.mean.is_finite() && self.half_width.is_none_or(f64::is_finite)
    }
}

/// One series of [`bars`]: a value (or none) per category.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    pub label: String,
    pub values: Vec<Option<Interval>>,
}

/// One series of [`intervals`]: (x, interval) points.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalSeries {
    pub label: String,
    pub points: Vec<(f64, Interval)>,
}

/// Grouped bars with interval whiskers; the y axis starts at zero for
/// non-negative data (a bar's length is its value).
pub fn bars(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    categories: &[String],
    series: &[BarSeries],
) -> Result<Vec<PathBuf>, ChartError> {
    let values = || series.iter().flat_map(|s| s.values.iter().flatten()).filter(|v| v.finite());
    let y_range = data_range(values().flat_map(|v| [v.low(), v.high(), 0.0]))
        .filter(|_| values().next().is_some())
        .map(|r| if r.start < 0.0 && values().all(|v| v.low() >= 0.0) { 0.0..r.end } else { r })
        .map(|r| if series.len() > 1 { legend_headroom(r, series.len()) } else { r });
    let fig = Bars { title, x_label, y_label, categories, series, y_range };
    render_figure(stem, &fig)
}

/// A metric against a numeric parameter: lines through the means, a
/// whisker for each interval.
pub fn intervals(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[IntervalSeries],
) -> Result<Vec<PathBuf>, ChartError> {
    let series: Vec<IntervalSeries> = series
        .iter()
        .map(|s| IntervalSeries {
            label: s.label.clone(),
            points: s.points.iter().copied().filter(|(x, v)| x.is_finite() && v.finite()).collect(),
        })
        .collect();
    let x_range = data_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let y_range = data_range(series.iter().flat_map(|s| s.points.iter().flat_map(|p| [p.1.low(), p.1.high()])))
        .map(|r| legend_headroom(r, series.len()));
    let fig = Intervals { title, x_label, y_label, series: &series, x_range, y_range };
    render_figure(stem, &fig)
}

/// Something drawable on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

fn render_figure<F: Figure>(stem: &Path, fig: &F) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let png = with_suffix(stem, ".png");
    let svg = with_suffix(stem, ".svg");
    let render_err = |path: &Path, message: String| ChartError::Render { path: path.to_owned(), message };
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        fig.draw(&root).and_then(|()| root.present()).map_err(|e| render_err(&png, e.to_string()))?;
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        fig.draw(&root).and_then(|()| root.present()).map_err(|e| render_err(&svg, e.to_string()))?;
    }
    std::fs::write(&svg, text).map_err(|source| ChartError::Write { path: svg.clone(), source })?;
    Ok(vec![png, svg])
}

struct Bars<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    categories: &'a [String],
    series: &'a [BarSeries],
    y_range: Option<Range<f64>>,
}

/// Share of a category's width the bars of a group fill.
const GROUP_WIDTH: f64 = 0.8;

impl Figure for Bars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let n = self.categories.len().max(1);
        let y_range = self.y_range.clone().unwrap_or(0.0..1.0);
        let mut chart = frame(root, self.title, -0.5..(n as f64 - 0.5), y_range.clone())?;
        let y_fmt = |v: &f64| tick_label(*v, &y_range);
        // Only whole positions are categories; other ticks stay blank.
        let x_fmt = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 { self.categories.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        };
        mesh(&mut chart, self.x_label, self.y_label)
            .disable_x_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .draw()?;

        let k = self.series.len().max(1);
        let width = GROUP_WIDTH / k as f64;
        for (j, s) in self.series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            let mut drawn = false;
            for (i, v) in s.values.iter().enumerate() {
                let Some(v) = v.filter(|v| v.finite()) else { continue };
                let centre = i as f64 - GROUP_WIDTH / 2.0 + width * (j as f64 + 0.5);
                let half = width * 0.45;
                let bar = chart.draw_series(std::iter::once(Rectangle::new(
                    [(centre - half, 0.0f64.clamp(y_range.start, y_range.end)), (centre + half, v.mean)],
                    color.filled(),
                )))?;
                if !drawn {
                    bar.label(s.label.as_str())
                        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
                    drawn = true;
                }
                whisker(&mut chart, centre, v, half * 0.5, BLACK)?;
            }
        }
        let has_data = self.y_range.is_some();
        if has_data && self.series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT_FAMILY, 16))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        if !has_data {
            no_data(&chart)?;
        }
        Ok(())
    }
}

struct Intervals<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [IntervalSeries],
    x_range: Option<Range<f64>>,
    y_range: Option<Range<f64>>,
}

impl Figure for Intervals<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let x_range = self.x_range.clone().unwrap_or(0.0..1.0);
        let y_range = self.y_range.clone().unwrap_or(0.0..1.0);
        let mut chart = frame(root, self.title, x_range.clone(), y_range.clone())?;
        let x_fmt = |v: &f64| tick_label(*v, &x_range);
        let y_fmt = |v: &f64| tick_label(*v, &y_range);
        mesh(&mut chart, self.x_label, self.y_label).x_label_formatter(&x_fmt).y_label_formatter(&y_fmt).draw()?;
        let span = x_range.end - x_range.start;
        let cap = span * 0.008;
        // Series are nudged apart along x so equal means (common random
        // numbers make them common) do not hide each other's whiskers.
        let k = self.series.len() as f64;
        let mut has_data = false;
        for (j, s) in self.series.iter().enumerate() {
            if s.points.is_empty() {
                continue;
            }
            has_data = true;
            let dodge = (j as f64 - (k - 1.0) / 2.0) * span * 0.006;
            let color = PALETTE[j % PALETTE.len()];
            let style = color.stroke_width(2);
            chart
                .draw_series(LineSeries::new(s.points.iter().map(|(x, v)| (*x + dodge, v.mean)), style))?
                .label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart.draw_series(s.points.iter().map(|(x, v)| Circle::new((*x + dodge, v.mean), 4, color.filled())))?;
            for (x, v) in &s.points {
                whisker(&mut chart, *x + dodge, *v, cap, color)?;
            }
        }
        if has_data {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT_FAMILY, 16))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        } else {
            no_data(&chart)?;
        }
        Ok(())
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// The interval as a vertical line with caps `cap` wide each side.
fn whisker<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: f64,
    v: Interval,
    cap: f64,
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if v.half_width.is_none() {
        return Ok(());
    }
    let style = color.stroke_width(2);
    let (lo, hi) = (v.low(), v.high());
    chart.draw_series([
        PathElement::new(vec![(x, lo), (x, hi)], style),
        PathElement::new(vec![(x - cap, lo), (x + cap, lo)], style),
        PathElement::new(vec![(x - cap, hi), (x + cap, hi)], style),
    ])?;
    Ok(())
}

fn no_data<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let area = chart.plotting_area();
    let (xr, yr) = (area.get_x_range(), area.get_y_range());
    let centre = ((xr.start + xr.end) / 2.0, (yr.start + yr.end) / 2.0);
    let style = TextStyle::from((FONT_FAMILY, 32).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new("no data", centre, style))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cdnsim-chart-sweep-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn iv(mean: f64, hw: f64) -> Option<Interval> {
        Some(Interval { mean, half_width: Some(hw) })
    }

    #[test]
    fn bars_name_every_category_and_series() {
        let dir = tmp_dir("bars");
        let cats: Vec<String> = ["tree", "pool", "mesh"].map(String::from).to_vec();
        let series = [
            BarSeries { label: "2 viewers/s".into(), values: vec![iv(1.8, 0.1), iv(1.2, 0.05), None] },
            BarSeries { label: "5 viewers/s".into(), values: vec![iv(1.9, 0.2), iv(1.1, 0.1), iv(1.05, 0.02)] },
        ];
        let p = bars(&dir.join("hop_waste"), "Hop waste by routing mode", "routing.mode", "hop waste (ratio)", &cats, &series).unwrap();
        let svg = std::fs::read_to_string(&p[1]).unwrap();
        for t in ["tree", "pool", "mesh", "2 viewers/s", "5 viewers/s", "routing.mode", "hop waste (ratio)"] {
            assert!(svg.contains(&format!(">\n{t}\n</text>")), "SVG lacks {t:?}");
        }
        // Five bars: five filled rectangles in the bars' colours.
        let blue = svg.matches("fill=\"#0072B2\"").count();
        let orange = svg.matches("fill=\"#D55E00\"").count();
        assert_eq!((blue, orange), (2 + 1, 3 + 1), "bars plus one legend swatch each");
        assert!(std::fs::read(&p[0]).unwrap().starts_with(b"\x89PNG"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn intervals_draw_and_are_deterministic() {
        let dir = tmp_dir("intervals");
        let s = [IntervalSeries {
            label: "tree".into(),
            points: vec![(1.0, Interval { mean: 10.0, half_width: Some(1.0) }), (2.0, Interval { mean: 12.0, half_width: None })],
        }];
        let a = intervals(&dir.join("a"), "Startup", "viewers.arrivals_per_s", "startup p95 (ms)", &s).unwrap();
        let b = intervals(&dir.join("b"), "Startup", "viewers.arrivals_per_s", "startup p95 (ms)", &s).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        }
        let empty = intervals(&dir.join("e"), "Empty", "x", "y", &[]).unwrap();
        assert!(std::fs::read_to_string(&empty[1]).unwrap().contains("no data"));
        let none = bars(&dir.join("n"), "Empty", "x", "y", &["a".into()], &[]).unwrap();
        assert!(std::fs::read_to_string(&none[1]).unwrap().contains("no data"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
