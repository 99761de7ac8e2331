//! Charts of run results as PNG and SVG.
//!
//! - [`cdf`]: empirical CDFs of sample sets (e.g. startup delay per session).
//! - [`lines`]: labelled series over x (e.g. a metric over simulated time).
//! - [`timeline`]: lines over x with labelled intervals shaded (e.g. the
//!   windows a fault was active), plus the plotted points as CSV.
//! - [`sweep`]: means with 95% confidence intervals over a sweep: grouped
//!   bars per category ([`sweep::bars`]) and a metric against a numeric
//!   parameter ([`sweep::intervals`]).
//!
//! All write `<stem>.png` and `<stem>.svg` and return the two paths. One
//! backend-generic `draw` renders both formats, so they cannot drift apart.
//! Text uses DejaVu Sans embedded in the binary and registered with plotters'
//! `ab_glyph` support, so rendering needs no system fonts and is the same on
//! every machine. Output carries no timestamps: same input, same bytes.

use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub mod sweep;

/// Family every text element asks for; it resolves to the embedded font only
/// because we register it under this name.
const FONT_FAMILY: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

const SIZE: (u32, u32) = (1024, 640);

/// Above this many distinct values a CDF is drawn through evenly spaced
/// quantiles instead of exact steps: the curve looks the same, while the SVG
/// stays small for sample sets of millions of sessions.
const MAX_CDF_STEPS: usize = 2000;

/// Colour-blind-friendly qualitative palette (Okabe-Ito, black dropped because
/// it is the axis colour); cycles if there are more series.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
];

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("failed to render chart {}: {message}", path.display())]
    Render { path: PathBuf, message: String },
    #[error("failed to write chart {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One labelled line for [`lines`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A labelled interval of x shaded behind the lines of [`timeline`].
/// Bands with the same label share one colour and one legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub label: String,
    pub start: f64,
    pub end: f64,
}

/// Light fills for bands, one per distinct label, cycling.
const BAND_FILLS: [RGBColor; 4] = [
    RGBColor(200, 200, 200),
    RGBColor(250, 210, 170),
    RGBColor(190, 215, 240),
    RGBColor(220, 200, 230),
];

/// Empirical CDF of each sample set (x = value, y = fraction of samples <= x,
/// 0..1), one line per labelled set, legend, axis labels with units.
/// Non-finite samples are skipped.
pub fn cdf(
    stem: &Path,
    title: &str,
    x_label: &str,
    sets: &[(String, Vec<f64>)],
) -> Result<Vec<PathBuf>, ChartError> {
    let series: Vec<Series> = sets
        .iter()
        .map(|(label, samples)| Series {
            label: label.clone(),
            points: cdf_points(samples),
        })
        .collect();
    let x_range = data_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let plot = Plot {
        title,
        x_label,
        y_label: "fraction of samples ≤ x",
        series,
        bands: Vec::new(),
        x_range,
        // Fixed so CDFs of different runs can be compared by eye; the small
        // overshoot keeps the 0 and 1 plateaus off the frame.
        y_range: Some(-0.02..1.02),
        legend_at: SeriesLabelPosition::LowerRight,
    };
    render(stem, &plot)
}

/// Lines over x (e.g. time in s), legend, labelled axes. Non-finite points are
/// skipped; a series with a single point is drawn as a marker.
pub fn lines(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<Vec<PathBuf>, ChartError> {
    render(stem, &lines_plot(title, x_label, y_label, series, &[]))
}

/// [`lines`] with `bands` shaded behind the lines (in the legend after the
/// lines; non-finite or empty bands skipped, the x range widened to show
/// every band), and `<stem>.csv` beside the PNG and SVG: one row
/// `series,x,y` per point drawn, in series order, so what the chart shows
/// can be read back exactly (shortest round-trip decimals).
pub fn timeline(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    bands: &[Band],
) -> Result<Vec<PathBuf>, ChartError> {
    let plot = lines_plot(title, x_label, y_label, series, bands);
    let mut written = render(stem, &plot)?;
    let csv = with_suffix(stem, ".csv");
    std::fs::write(&csv, points_csv(&plot.series)).map_err(|source| ChartError::Write {
        path: csv.clone(),
        source,
    })?;
    written.push(csv);
    Ok(written)
}

/// `series,x,y` rows; a label is quoted, its quotes doubled.
fn points_csv(series: &[Series]) -> String {
    let mut out = String::from("series,x,y\n");
    for s in series {
        let label = format!("\"{}\"", s.label.replace('"', "\"\""));
        for (x, y) in &s.points {
            out.push_str(&format!("{label},{x},{y}\n"));
        }
    }
    out
}

fn lines_plot<'a>(
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &[Series],
    bands: &[Band],
) -> Plot<'a> {
    let series: Vec<Series> = series
        .iter()
        .map(|s| Series {
            label: s.label.clone(),
            points: s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect(),
        })
        .collect();
    let bands: Vec<Band> = bands
        .iter()
        .filter(|b| b.start.is_finite() && b.end.is_finite() && b.start < b.end)
        .cloned()
        .collect();
    let band_labels = distinct_labels(&bands).len();
    let x_range = data_range(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(bands.iter().flat_map(|b| [b.start, b.end])),
    );
    let y_range = data_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
        .map(|r| legend_headroom(r, series.len() + band_labels));
    Plot {
        title,
        x_label,
        y_label,
        series,
        bands,
        x_range,
        y_range,
        legend_at: SeriesLabelPosition::UpperRight,
    }
}

/// The bands' labels in order of first appearance.
fn distinct_labels(bands: &[Band]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for b in bands {
        if !out.contains(&b.label.as_str()) {
            out.push(&b.label);
        }
    }
    out
}

/// Raises the top of the y range so the upper-right legend sits above every
/// line instead of over one. Pixel figures approximate the layout in `draw`.
fn legend_headroom(r: Range<f64>, rows: usize) -> Range<f64> {
    const PLOT_HEIGHT_PX: f64 = 500.0;
    let legend_px = 20.0 * rows as f64 + 25.0;
    let frac = (legend_px / PLOT_HEIGHT_PX).min(0.5);
    let top = r.start + (r.end - r.start) / (1.0 - frac);
    if top.is_finite() { r.start..top } else { r }
}

/// Everything `draw` needs, already cleaned: finite points only, ranges of
/// non-zero width (`None` means there was no data on that axis).
struct Plot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: Vec<Series>,
    /// Finite, non-empty intervals to shade behind the lines.
    bands: Vec<Band>,
    x_range: Option<Range<f64>>,
    y_range: Option<Range<f64>>,
    legend_at: SeriesLabelPosition,
}

fn render(stem: &Path, plot: &Plot) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let png = with_suffix(stem, ".png");
    let svg = with_suffix(stem, ".svg");
    render_png(&png, plot)?;
    render_svg(&svg, plot)?;
    Ok(vec![png, svg])
}

/// Appends rather than using `Path::with_extension`, which would eat a dot
/// already in the stem (`run.v2` -> `run.png`).
fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(stem.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

fn render_png(path: &Path, plot: &Plot) -> Result<(), ChartError> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(&root, plot)
        .and_then(|()| root.present())
        .map_err(|e| ChartError::Render {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

/// Renders into memory and writes it ourselves, so a write failure surfaces
/// as an `io::Error` instead of being swallowed by the backend's `Drop`.
fn render_svg(path: &Path, plot: &Plot) -> Result<(), ChartError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, plot)
            .and_then(|()| root.present())
            .map_err(|e| ChartError::Render {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
    }
    std::fs::write(path, text).map_err(|source| ChartError::Write {
        path: path.to_owned(),
        source,
    })
}

type Frame<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame every chart shares: a white page, the title, margins and room
/// for the axis labels, over numeric axes.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Frame<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    ChartBuilder::on(root)
        .caption(title, (FONT_FAMILY, 28))
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(85)
        .build_cartesian_2d(x, y)
}

/// Gridlines and axis titles in the shared style; the caller adds its tick
/// formatters and draws.
fn mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut Frame<'a, DB>,
    x_label: &'b str,
    y_label: &'b str,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut m = chart.configure_mesh();
    m.x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT_FAMILY, 15))
        .axis_desc_style((FONT_FAMILY, 20))
        .light_line_style(RGBColor(235, 235, 235));
    m
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let has_data = plot.series.iter().any(|s| !s.points.is_empty());
    let mut chart = frame(root, plot.title, plot.x_range.clone().unwrap_or(0.0..1.0), plot.y_range.clone().unwrap_or(0.0..1.0))?;
    let (x_range, y_range) = (chart.x_range(), chart.y_range());
    let x_fmt = |v: &f64| tick_label(*v, &x_range);
    let y_fmt = |v: &f64| tick_label(*v, &y_range);
    mesh(&mut chart, plot.x_label, plot.y_label).x_label_formatter(&x_fmt).y_label_formatter(&y_fmt).draw()?;

    // Bands first, so the lines stay on top; one legend entry per label.
    let labels = distinct_labels(&plot.bands);
    for (k, label) in labels.iter().enumerate() {
        let fill = BAND_FILLS[k % BAND_FILLS.len()];
        let (lo, hi) = (y_range.start, y_range.end);
        let rects = plot
            .bands
            .iter()
            .filter(|b| b.label == *label)
            .map(|b| Rectangle::new([(b.start, lo), (b.end, hi)], fill.mix(0.6).filled()));
        chart
            .draw_series(rects)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], fill.mix(0.6).filled()));
    }

    for (i, s) in plot.series.iter().enumerate() {
        if s.points.is_empty() {
            continue;
        }
        let color = PALETTE[i % PALETTE.len()];
        let style = color.stroke_width(2);
        let ann = if s.points.len() == 1 {
            // A one-point line is invisible; a marker is the honest rendering.
            chart.draw_series(PointSeries::of_element(
                s.points.iter().copied(),
                4,
                color.filled(),
                &|c, size, st| Circle::new(c, size, st),
            ))?
        } else {
            chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?
        };
        ann.label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }

    if has_data {
        chart
            .configure_series_labels()
            .position(plot.legend_at.clone())
            .label_font((FONT_FAMILY, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    } else {
        // Still produce a chart so a report referencing it is not broken, but
        // make it obvious there was nothing to plot.
        let area = chart.plotting_area();
        let (xr, yr) = (area.get_x_range(), area.get_y_range());
        let centre = ((xr.start + xr.end) / 2.0, (yr.start + yr.end) / 2.0);
        let style = TextStyle::from((FONT_FAMILY, 32).into_font())
            .color(&RGBColor(110, 110, 110))
            .pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new("no data", centre, style))?;
    }
    Ok(())
}

/// Tick text with as many decimals as the tick spacing needs (plotters' own
/// formatting prints 1e10 as a 12-digit integer and clips it), switching to
/// scientific notation for very large or very small magnitudes.
fn tick_label(v: f64, range: &Range<f64>) -> String {
    // Plotters places at most ~10 ticks per axis, so span/10 bounds the step
    // from below within a factor of a few, enough to pick a precision.
    let step = (range.end - range.start).abs() / 10.0;
    let step_exp = if step > 0.0 {
        step.log10().floor()
    } else {
        0.0
    };
    // Rounding noise (e.g. -1e-17) must not print as "-0.0".
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    let mag = range.start.abs().max(range.end.abs());
    if mag >= 1e6 || (mag > 0.0 && mag < 1e-3) {
        if v == 0.0 {
            // "0.0e0" reads as noise.
            return "0".to_string();
        }
        let digits = (mag.log10().floor() - step_exp).clamp(0.0, 15.0) as usize;
        format!("{v:.digits$e}")
    } else {
        let decimals = (-step_exp).clamp(0.0, 15.0) as usize;
        format!("{v:.decimals$}")
    }
}

/// Exact step function when small; otherwise evenly spaced quantiles joined by
/// straight lines (see `MAX_CDF_STEPS`).
fn cdf_points(samples: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    // (value, fraction <= value) at the last occurrence of each distinct value.
    let mut steps: Vec<(f64, f64)> = Vec::new();
    for (i, &x) in v.iter().enumerate() {
        let f = (i + 1) as f64 / n;
        match steps.last_mut() {
            // -0.0 and 0.0 are one value for a CDF.
            Some(last) if last.0 == x => last.1 = f,
            _ => steps.push((x, f)),
        }
    }
    if steps.len() <= MAX_CDF_STEPS {
        let mut pts = Vec::with_capacity(steps.len() * 2);
        let mut below = 0.0;
        for &(x, f) in &steps {
            pts.push((x, below));
            pts.push((x, f));
            below = f;
        }
        pts
    } else {
        let last = steps.len() - 1;
        let mut pts = vec![(steps[0].0, 0.0)];
        pts.extend((0..MAX_CDF_STEPS).map(|k| steps[k * last / (MAX_CDF_STEPS - 1)]));
        pts
    }
}

/// Data extent plus 5 % each side. Plotters misbehaves on a zero-width range,
/// so a single value gets a margin relative to its magnitude instead.
fn data_range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })?;
    // Halving keeps the padded bounds finite even at the ends of f64.
    let (lo, hi) = if (hi - lo).is_finite() {
        (lo, hi)
    } else {
        (lo / 2.0, hi / 2.0)
    };
    let span = hi - lo;
    let pad = if span > 0.0 && (lo - span * 0.05) < lo {
        span * 0.05
    } else if lo == 0.0 && hi == 0.0 {
        1.0
    } else {
        // Zero span, or a span so small relative to the values that adding 5 %
        // of it would be lost to rounding.
        lo.abs().max(hi.abs()) * 0.05
    };
    // Clamp so the bounds stay finite near f64::MAX.
    let lo = (lo - pad).max(-f64::MAX / 2.0);
    let hi = (hi + pad).min(f64::MAX / 2.0);
    Some(lo..hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fresh per-test directory; no tempfile crate needed.
    fn tmp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cdnsim-chart-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn sample_sets() -> Vec<(String, Vec<f64>)> {
        vec![
            (
                "baseline".to_string(),
                (0..200)
                    .map(|i| 0.5 + (i as f64 * 0.37).sin().abs() * 2.0)
                    .collect(),
            ),
            (
                "edge cache".to_string(),
                (0..150)
                    .map(|i| 0.3 + (i as f64 * 0.11).cos().abs())
                    .collect(),
            ),
        ]
    }

    fn sample_series() -> Vec<Series> {
        vec![
            Series {
                label: "origin egress".to_string(),
                points: (0..120)
                    .map(|t| (t as f64, 50.0 + (t as f64 / 10.0).sin() * 20.0))
                    .collect(),
            },
            Series {
                label: "edge egress".to_string(),
                points: (0..120).map(|t| (t as f64, 200.0 + t as f64)).collect(),
            },
        ]
    }

    fn assert_outputs(paths: &[PathBuf], stem: &Path, texts: &[&str]) {
        assert_eq!(
            paths,
            &[with_suffix(stem, ".png"), with_suffix(stem, ".svg")]
        );
        let png = std::fs::read(&paths[0]).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(
            png.len() > 10_000,
            "PNG suspiciously small: {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(
            svg.len() > 2_000,
            "SVG suspiciously small: {} bytes",
            svg.len()
        );
        for t in texts {
            // As the content of a <text> element, i.e. real text, not paths.
            assert!(
                svg.contains(&format!(">\n{t}\n</text>")),
                "SVG lacks <text> {t:?}"
            );
        }
    }

    /// Draws into an in-memory RGB buffer through the same `draw` the PNG
    /// uses, so pixels can be inspected without an image decoder.
    fn raster(plot: &Plot) -> Vec<u8> {
        ensure_font().unwrap();
        let mut buf = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
            draw(&root, plot).unwrap();
            root.present().unwrap();
        }
        buf
    }

    fn dark_pixels(buf: &[u8], xs: Range<u32>, ys: Range<u32>) -> usize {
        let mut n = 0;
        for y in ys {
            for x in xs.clone() {
                let i = ((y * SIZE.0 + x) * 3) as usize;
                let sum: u32 = buf[i..i + 3].iter().map(|&c| c as u32).sum();
                if sum < 3 * 128 {
                    n += 1;
                }
            }
        }
        n
    }

    fn plot_of(title: &'static str, series: Vec<Series>) -> Plot<'static> {
        let x_range = data_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let y_range = data_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
        Plot {
            title,
            x_label: "time (s)",
            y_label: "throughput (Mbit/s)",
            series,
            x_range,
            y_range,
            bands: Vec::new(),
            legend_at: SeriesLabelPosition::UpperRight,
        }
    }

    #[test]
    fn cdf_writes_png_and_svg_with_text() {
        let dir = tmp_dir("cdf");
        let stem = dir.join("startup_cdf");
        let paths = cdf(&stem, "Startup delay", "startup delay (s)", &sample_sets()).unwrap();
        assert_outputs(
            &paths,
            &stem,
            &[
                "Startup delay",
                "startup delay (s)",
                "fraction of samples ≤ x",
                "baseline",
                "edge cache",
            ],
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lines_writes_png_and_svg_with_text() {
        let dir = tmp_dir("lines");
        let stem = dir.join("egress.v2");
        let paths = lines(
            &stem,
            "Egress over time",
            "time (s)",
            "egress (Mbit/s)",
            &sample_series(),
        )
        .unwrap();
        assert_outputs(
            &paths,
            &stem,
            &[
                "Egress over time",
                "time (s)",
                "egress (Mbit/s)",
                "origin egress",
                "edge egress",
            ],
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timeline_shades_bands_and_writes_the_points_it_draws() {
        let dir = tmp_dir("timeline");
        let stem = dir.join("faults");
        let mut series = sample_series();
        series[0].label = "origin, \"egress\"".into();
        series[1].points.push((f64::NAN, 1.0));
        let bands = [
            Band { label: "centre down".into(), start: 10.0, end: 20.0 },
            Band { label: "link cut".into(), start: 15.0, end: 30.0 },
            Band { label: "centre down".into(), start: 60.0, end: 70.0 },
            // Past the data: the x range must widen to show it.
            Band { label: "link cut".into(), start: 130.0, end: 140.0 },
            Band { label: "empty".into(), start: 5.0, end: 5.0 },
        ];
        let paths = timeline(&stem, "Faults", "time (s)", "egress (Mbit/s)", &series, &bands).unwrap();
        assert_outputs(&paths[..2], &stem, &["Faults", "centre down", "link cut"]);
        assert_eq!(paths[2], with_suffix(&stem, ".csv"));
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(!svg.contains(">\nempty\n</text>"), "an empty band has no legend entry");
        // The CSV holds every finite point, in order, exactly.
        let csv = std::fs::read_to_string(&paths[2]).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("series,x,y"));
        let rows: Vec<(String, f64, f64)> = lines
            .map(|l| {
                let (rest, y) = l.rsplit_once(',').unwrap();
                let (label, x) = rest.rsplit_once(',').unwrap();
                (label.to_string(), x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        let want: Vec<(String, f64, f64)> = series
            .iter()
            .flat_map(|s| {
                let label = format!("\"{}\"", s.label.replace('"', "\"\""));
                s.points.iter().filter(|p| p.0.is_finite()).map(move |p| (label.clone(), p.0, p.1))
            })
            .collect();
        assert_eq!(rows, want);
        let plot = lines_plot("t", "x", "y", &series, &bands);
        assert!(plot.x_range.unwrap().end > 140.0);
        assert_eq!(plot.bands.len(), 4);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn title_and_axis_text_are_rasterised() {
        let with_title = raster(&plot_of("Egress over time", sample_series()));
        // A blank caption keeps the layout identical, so only glyphs differ.
        let no_title = raster(&plot_of(" ", sample_series()));
        // The caption sits in the top band; without a font it would be blank.
        let title_band = |b: &[u8]| dark_pixels(b, 0..SIZE.0, 0..46);
        assert!(
            title_band(&with_title) > 300,
            "title band has {} dark pixels",
            title_band(&with_title)
        );
        assert_eq!(title_band(&no_title), 0);
        // Rotated y-axis description at the far left, left of tick labels.
        let y_desc = dark_pixels(&with_title, 20..45, 100..560);
        assert!(y_desc > 100, "y-axis description has {y_desc} dark pixels");
    }

    #[test]
    fn rendering_is_deterministic() {
        let dir = tmp_dir("determinism");
        let a = cdf(
            &dir.join("a"),
            "Startup delay",
            "startup delay (s)",
            &sample_sets(),
        )
        .unwrap();
        let b = cdf(
            &dir.join("b"),
            "Startup delay",
            "startup delay (s)",
            &sample_sets(),
        )
        .unwrap();
        let c = lines(
            &dir.join("c"),
            "Egress",
            "time (s)",
            "Mbit/s",
            &sample_series(),
        )
        .unwrap();
        let d = lines(
            &dir.join("d"),
            "Egress",
            "time (s)",
            "Mbit/s",
            &sample_series(),
        )
        .unwrap();
        for (x, y) in a.iter().zip(&b).chain(c.iter().zip(&d)) {
            assert_eq!(
                std::fs::read(x).unwrap(),
                std::fs::read(y).unwrap(),
                "{x:?} vs {y:?}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_input_gives_no_data_chart() {
        let dir = tmp_dir("empty");
        let p = cdf(&dir.join("none"), "Empty", "x (s)", &[]).unwrap();
        let svg = std::fs::read_to_string(&p[1]).unwrap();
        assert!(svg.contains("no data"));
        cdf(
            &dir.join("empty_sets"),
            "Empty",
            "x (s)",
            &[("a".into(), vec![]), ("b".into(), vec![f64::NAN])],
        )
        .unwrap();
        lines(&dir.join("no_series"), "Empty", "t (s)", "y", &[]).unwrap();
        let p = lines(
            &dir.join("empty_series"),
            "Empty",
            "t (s)",
            "y",
            &[Series {
                label: "a".into(),
                points: vec![(f64::NAN, 1.0), (2.0, f64::INFINITY)],
            }],
        )
        .unwrap();
        assert!(std::fs::read_to_string(&p[1]).unwrap().contains("no data"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn degenerate_ranges_do_not_panic() {
        let dir = tmp_dir("degenerate");
        for (i, v) in [0.0, 3.5, -2.0, 1e-300, 1e300, -0.0]
            .into_iter()
            .enumerate()
        {
            cdf(
                &dir.join(format!("cdf{i}")),
                "Same",
                "x (s)",
                &[("same".into(), vec![v; 10])],
            )
            .unwrap();
            lines(
                &dir.join(format!("one{i}")),
                "One point",
                "t (s)",
                "y",
                &[Series {
                    label: "one".into(),
                    points: vec![(v, v)],
                }],
            )
            .unwrap();
        }
        // Extremes whose span overflows, and a span lost to rounding.
        cdf(
            &dir.join("huge"),
            "Huge",
            "x",
            &[("h".into(), vec![-f64::MAX, f64::MAX])],
        )
        .unwrap();
        cdf(
            &dir.join("close"),
            "Close",
            "x",
            &[("c".into(), vec![1e20, 1e20 + 1e5])],
        )
        .unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cdf_points_are_a_step_function_ending_at_one() {
        let pts = cdf_points(&[2.0, 1.0, f64::NAN, 2.0, 3.0]);
        assert_eq!(
            pts,
            vec![
                (1.0, 0.0),
                (1.0, 0.25),
                (2.0, 0.25),
                (2.0, 0.75),
                (3.0, 0.75),
                (3.0, 1.0)
            ]
        );
        let many: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
        let pts = cdf_points(&many);
        assert!(pts.len() <= MAX_CDF_STEPS + 1);
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(99_999.0, 1.0)));
    }

    #[test]
    fn write_error_names_the_file() {
        let missing = std::env::temp_dir()
            .join("cdnsim-chart-no-such-dir-xyz")
            .join("chart");
        let err = cdf(&missing, "t", "x", &sample_sets()).unwrap_err();
        assert!(
            err.to_string().contains("cdnsim-chart-no-such-dir-xyz"),
            "{err}"
        );
    }

    #[test]
    fn tick_labels_fit_the_scale() {
        assert_eq!(tick_label(0.5, &(0.0..2.7)), "0.5");
        assert_eq!(tick_label(3.45, &(3.32..3.68)), "3.45");
        assert_eq!(tick_label(-1e-17, &(-0.1..1.0)), "0.0");
        assert_eq!(tick_label(0.0, &(0.0..1.04e11)), "0");
        assert_eq!(tick_label(2e10, &(0.0..1.04e11)), "2.0e10");
        assert_eq!(tick_label(2e-5, &(0.0..1e-4)), "2.0e-5");
        assert_eq!(tick_label(120.0, &(-5.0..125.0)), "120");
    }

    #[test]
    fn data_range_pads_and_never_collapses() {
        let r = data_range([0.0, 10.0].into_iter()).unwrap();
        assert!(r.start < 0.0 && r.end > 10.0);
        let r = data_range([5.0].into_iter()).unwrap();
        assert!(r.start < 5.0 && r.end > 5.0);
        let r = data_range([0.0, 0.0].into_iter()).unwrap();
        assert!(r.start < 0.0 && r.end > 0.0);
        assert!(data_range([f64::NAN].into_iter()).is_none());
        let r = data_range([-f64::MAX, f64::MAX].into_iter()).unwrap();
        assert!(r.start.is_finite() && r.end.is_finite() && r.start < r.end);
    }
}
