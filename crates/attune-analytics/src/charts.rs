//! SVG charts (plotters' SVG backend: text stays text, no system fonts needed).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::curves::LearningCurve;
use crate::items::ItemStats;
use crate::{Error, Result};

/// Ten distinguishable colours (Tableau 10), for series.
const SERIES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn chart_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Chart(e.to_string())
}

/// Draws the series legend in a light box at `position`.
fn legend<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(chart_error)
}

/// Text safe inside SVG whatever the backend does with it.
pub(crate) fn svg_text(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    s.replace('&', "and")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { s.chars().take(n - 1).collect::<String>() + "…" }
}

fn render(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Error rate by practice opportunity, points with their power-law fits, one colour per curve.
pub fn learning_curves(curves: &[(String, &LearningCurve)], title: &str) -> Result<String> {
    let max_x = curves.iter().flat_map(|(_, c)| c.points.iter().map(|p| p.opportunity)).max().unwrap_or(1).max(2);
    let max_y = curves.iter().flat_map(|(_, c)| c.points.iter().map(|p| p.error_rate)).fold(0.0f64, f64::max);
    let max_y = (max_y * 1.1).clamp(0.05, 1.0);
    render(900, 480, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5f64..f64::from(max_x) + 0.5, 0f64..max_y)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("practice opportunity (n-th answer on the skill)")
            .y_desc("error rate")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(chart_error)?;
        for (k, (label, curve)) in curves.iter().enumerate() {
            let color = SERIES[k % SERIES.len()];
            let pts: Vec<(f64, f64)> = curve.points.iter().map(|p| (f64::from(p.opportunity), p.error_rate)).collect();
            chart
                .draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 3, color.filled())))
                .map_err(chart_error)?
                .label(svg_text(&truncate(label, 48)))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
            if let Some(fit) = curve.fit {
                let line: Vec<(f64, f64)> = (0..=100)
                    .map(|j| 1.0 + f64::from(j) / 100.0 * f64::from(max_x - 1))
                    .map(|x| (x, fit.at(x).min(max_y)))
                    .collect();
                chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map_err(chart_error)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// Colour of a mastery value in [0, 1]: red (not mastered) through yellow to green.
pub fn mastery_color(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let lerp = |a: u8, b: u8, t: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    let (lo, mid, hi) = ((215u8, 48u8, 39u8), (254u8, 224u8, 139u8), (26u8, 152u8, 80u8));
    let (from, to, t) = if v < 0.5 { (lo, mid, v * 2.0) } else { (mid, hi, (v - 0.5) * 2.0) };
    RGBColor(lerp(from.0, to.0, t), lerp(from.1, to.1, t), lerp(from.2, to.2, t))
}

/// Learners (columns) × skills (rows) heat map of mastery; `None` cells (never practised)
/// stay grey.
pub fn heat_map(learners: &[String], skills: &[String], values: &[Vec<Option<f64>>], title: &str) -> Result<String> {
    let (nx, ny) = (learners.len().max(1), skills.len().max(1));
    let width = (260 + 16 * nx).clamp(600, 1800) as u32;
    let height = (120 + 18 * ny).clamp(300, 1400) as u32;
    render(width, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(250)
            .build_cartesian_2d(0..nx, 0..ny)
            .map_err(chart_error)?;
        let sk: Vec<String> = skills.iter().map(|s| svg_text(&truncate(s, 38))).collect();
        let lr: Vec<String> = learners.iter().map(|s| svg_text(&truncate(s, 10))).collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx.min(40))
            .y_labels(ny)
            .x_label_formatter(&|x| lr.get(*x).cloned().unwrap_or_default())
            .y_label_formatter(&|y| sk.get(*y).cloned().unwrap_or_default())
            .x_label_style(("sans-serif", 10).into_font().transform(FontTransform::Rotate90))
            .y_label_style(("sans-serif", 11))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(values.iter().enumerate().flat_map(|(x, col)| {
                col.iter().enumerate().map(move |(y, v)| {
                    let color = v.map_or(RGBColor(230, 230, 230), mastery_color);
                    Rectangle::new([(x, y), (x + 1, y + 1)], color.filled())
                })
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Item difficulty against discrimination; flagged items in red.
pub fn items(items: &[ItemStats], title: &str) -> Result<String> {
    let (mut x0, mut x1, mut y0, mut y1) = (-1.0f64, 1.0f64, 0.0f64, 1.5f64);
    for i in items {
        x0 = x0.min(i.difficulty);
        x1 = x1.max(i.difficulty);
        y0 = y0.min(i.discrimination);
        y1 = y1.max(i.discrimination);
    }
    render(800, 480, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0 - 0.2..x1 + 0.2, y0 - 0.2..y1 + 0.2)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("difficulty b (higher = harder)")
            .y_desc("discrimination a")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(chart_error)?;
        let ok = SERIES[0].mix(0.5);
        chart
            .draw_series(
                items
                    .iter()
                    .filter(|i| i.flags.is_empty())
                    .map(|i| Circle::new((i.difficulty, i.discrimination), 2, ok.filled())),
            )
            .map_err(chart_error)?
            .label("item")
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, ok.filled()));
        chart
            .draw_series(
                items
                    .iter()
                    .filter(|i| !i.flags.is_empty())
                    .map(|i| Circle::new((i.difficulty, i.discrimination), 4, SERIES[3].filled())),
            )
            .map_err(chart_error)?
            .label("flagged (negative discrimination)")
            .legend(|(x, y)| Circle::new((x + 8, y), 4, SERIES[3].filled()));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// Histogram of learners' mean mastery, with the at-risk threshold marked.
pub fn mastery_histogram(means: &[f64], threshold: f64, title: &str) -> Result<String> {
    let bins = 20usize;
    let mut counts = vec![0u32; bins];
    for &m in means {
        counts[((m.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    render(800, 400, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..1f64, 0u32..top + top / 10 + 1)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("mean mastery over practised skills")
            .y_desc("learners")
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(b, &c)| {
                let (lo, hi) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
                Rectangle::new([(lo, 0), (hi, c)], mastery_color((lo + hi) / 2.0).filled())
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(vec![(threshold, 0), (threshold, top + top / 10)], BLACK.stroke_width(2)))
            .map_err(chart_error)?
            .label("at-risk threshold")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// One learner's mastery of each skill after each of their answers.
pub fn trajectory(series: &[(String, Vec<(u32, f64)>)], title: &str) -> Result<String> {
    let max_x = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.0)).max().unwrap_or(1).max(2);
    render(900, 420, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..f64::from(max_x) + 1.0, 0f64..1.05f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("answer number")
            .y_desc("mastery (estimated)")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(chart_error)?;
        for (k, (label, points)) in series.iter().enumerate() {
            let color = SERIES[k % SERIES.len()];
            let pts: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (f64::from(x), y)).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(svg_text(&truncate(label, 48)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 2, color.filled()))).map_err(chart_error)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}
