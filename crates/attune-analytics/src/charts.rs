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

/// The end of `s` in at most `n` characters (ids differ at their ends: `…train#2185`).
fn tail(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n { s.to_owned() } else { "…".to_owned() + &s.chars().skip(count - (n - 1)).collect::<String>() }
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

/// Text safe inside HTML or SVG markup (attributes included).
fn xml(s: &str) -> String {
    crate::html::esc(s)
}

/// Side of one heat-map cell in pixels.
const CELL: usize = 14;

/// Learners (columns) × skills (rows) heat map of mastery; `None` cells (never practised)
/// stay grey. Written by hand rather than through plotters so that every practised cell
/// carries its learner, skill and value (`data-learner` on the column, `data-skill`,
/// `data-mastery`, and a `<title>` the browser shows on hover and reads to screen readers).
pub fn heat_map(learners: &[String], skills: &[String], values: &[Vec<Option<f64>>], title: &str) -> Result<String> {
    Ok(HeatMap { title, learners, skills, skill_ids: None, values, links: None }.svg())
}

/// A heat map with every option: [`heat_map`] plus the skills' ids (in `data-skill`, where
/// the row labels are names) and a link per learner column.
#[derive(Clone, Copy, Debug)]
pub struct HeatMap<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// Column labels.
    pub learners: &'a [String],
    /// Row labels.
    pub skills: &'a [String],
    /// The rows' skill ids (default: the labels).
    pub skill_ids: Option<&'a [String]>,
    /// Mastery per column, per row.
    pub values: &'a [Vec<Option<f64>>],
    /// A link per column.
    pub links: Option<&'a [String]>,
}

impl HeatMap<'_> {
    /// The SVG.
    pub fn svg(&self) -> String {
        let &Self { title, learners, skills, skill_ids, values, links } = self;
        heat_map_svg(title, learners, skills, skill_ids.unwrap_or(skills), values, links)
    }
}

fn heat_map_svg(
    title: &str,
    learners: &[String],
    skills: &[String],
    skill_ids: &[String],
    values: &[Vec<Option<f64>>],
    links: Option<&[String]>,
) -> String {
    use std::fmt::Write;
    let label_w = 8 + 7 * skills.iter().map(|s| truncate(s, 38).chars().count()).max().unwrap_or(4);
    let (top, bottom) = (36, 90);
    let width = (label_w + CELL * learners.len() + 20).max(420);
    let height = top + CELL * skills.len() + bottom + 24;
    let mut o = String::with_capacity(200 + 150 * learners.len() * skills.len());
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heat-map\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"hm-title\" font-family=\"sans-serif\">\
         <title id=\"hm-title\">{t}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{x}\" y=\"22\" font-size=\"16\">{t}</text>",
        t = xml(title),
        x = label_w,
    );
    for (y, skill) in skills.iter().enumerate() {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            label_w - 6,
            top + CELL * y + CELL - 3,
            xml(&truncate(skill, 38))
        );
    }
    for (x, (learner, column)) in learners.iter().zip(values).enumerate() {
        let cx = label_w + CELL * x;
        // One grey background per column stands for every skill not practised; only
        // practised cells are drawn (most cells of a real class are empty).
        let _ = write!(
            o,
            "<g data-learner=\"{l}\"><rect x=\"{cx}\" y=\"{top}\" width=\"{CELL}\" height=\"{}\" fill=\"#e6e6e6\" \
             data-background=\"\"><title>{l}: grey = not practised</title></rect>",
            CELL * skills.len(),
            l = xml(learner),
        );
        for (y, v) in column.iter().enumerate().take(skills.len()) {
            let Some(v) = *v else { continue };
            let fill = mastery_color(v);
            let _ = write!(
                o,
                "<rect x=\"{cx}\" y=\"{}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"#{:02x}{:02x}{:02x}\" \
                 data-skill=\"{}\" data-mastery=\"{v:.4}\"><title>{} · {}: {v:.2}</title></rect>",
                top + CELL * y,
                fill.0,
                fill.1,
                fill.2,
                xml(skill_ids.get(y).unwrap_or(&skills[y])),
                xml(learner),
                xml(&skills[y]),
            );
        }
        let (lx, ly) = (cx + CELL - 3, top + CELL * skills.len() + 6);
        let label = format!(
            "<text x=\"{lx}\" y=\"{ly}\" font-size=\"10\" transform=\"rotate(90 {lx} {ly})\">{}</text>",
            xml(&tail(learner, 12))
        );
        match links.and_then(|l| l.get(x)) {
            Some(href) => {
                let _ = write!(o, "<a href=\"{}\">{label}</a>", xml(href));
            }
            None => o.push_str(&label),
        }
        o.push_str("</g>");
    }
    // The colour scale.
    let ly = height - 18;
    for k in 0..=20usize {
        let c = mastery_color(k as f64 / 20.0);
        let _ = write!(
            o,
            "<rect x=\"{}\" y=\"{ly}\" width=\"8\" height=\"10\" fill=\"#{:02x}{:02x}{:02x}\"/>",
            label_w + 8 * k,
            c.0,
            c.1,
            c.2
        );
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">mastery 0</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\">1</text>\
         <rect x=\"{}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"#e6e6e6\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\">not practised</text></svg>",
        label_w - 4,
        ly + 9,
        label_w + 8 * 21 + 3,
        ly + 9,
        label_w + 8 * 21 + 20,
        label_w + 8 * 21 + 34,
        ly + 9,
    );
    o
}

/// A skill in [`prerequisite_graph`]: its label, the value that colours it (mastery), and
/// where it links to.
#[derive(Clone, Debug, Default)]
pub struct GraphNode {
    /// The skill's name.
    pub label: String,
    /// Mastery in [0, 1] (grey where `None`).
    pub value: Option<f64>,
    /// A link target.
    pub href: Option<String>,
}

/// A skill's neighbourhood in the prerequisite graph: the skills it requires on the left,
/// the skill in the middle, the skills it unlocks on the right, arrows pointing from a
/// prerequisite to what needs it; nodes coloured by mastery.
pub fn prerequisite_graph(center: &GraphNode, requires: &[GraphNode], unlocks: &[GraphNode], title: &str) -> String {
    use std::fmt::Write;
    let (node_w, node_h, gap) = (230usize, 34usize, 12usize);
    let rows = requires.len().max(unlocks.len()).max(1);
    let height = 50 + rows * (node_h + gap) + 10;
    let width = 3 * node_w + 2 * 90 + 20;
    let column = |k: usize| 10 + k * (node_w + 90);
    let row_y = |i: usize, n: usize| {
        let span = n * (node_h + gap);
        let total = rows * (node_h + gap);
        44 + (total - span) / 2 + i * (node_h + gap)
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"prereq-graph\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"pg-title\" font-family=\"sans-serif\">\
         <title id=\"pg-title\">{t}</title><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"#555\"/></marker></defs>\
         <text x=\"10\" y=\"20\" font-size=\"15\">{t}</text>\
         <text x=\"{}\" y=\"38\" font-size=\"11\" fill=\"#555\">requires</text>\
         <text x=\"{}\" y=\"38\" font-size=\"11\" fill=\"#555\">unlocks</text>",
        column(0),
        column(2),
        t = xml(title),
    );
    let node = |o: &mut String, n: &GraphNode, x: usize, y: usize, bold: bool| {
        let fill = n.value.map_or(RGBColor(230, 230, 230), mastery_color);
        let value = n.value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"));
        let body = format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{node_w}\" height=\"{node_h}\" rx=\"6\" fill=\"#{:02x}{:02x}{:02x}\" \
             stroke=\"#333\" stroke-width=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\"{}>{} ({value})</text>",
            fill.0,
            fill.1,
            fill.2,
            if bold { 2 } else { 1 },
            x + 8,
            y + 21,
            if bold { " font-weight=\"bold\"" } else { "" },
            xml(&truncate(&n.label, 28)),
        );
        match &n.href {
            Some(h) => {
                let _ = write!(o, "<a href=\"{}\"><title>{}</title>{body}</a>", xml(h), xml(&n.label));
            }
            None => {
                let _ = write!(o, "<g><title>{}</title>{body}</g>", xml(&n.label));
            }
        }
    };
    let arrow = |o: &mut String, (x1, y1): (usize, usize), (x2, y2): (usize, usize)| {
        let _ = write!(
            o,
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>"
        );
    };
    let cy = row_y(0, 1) + node_h / 2;
    for (i, n) in requires.iter().enumerate() {
        let y = row_y(i, requires.len());
        arrow(&mut o, (column(0) + node_w, y + node_h / 2), (column(1) - 2, cy));
        node(&mut o, n, column(0), y, false);
    }
    for (i, n) in unlocks.iter().enumerate() {
        let y = row_y(i, unlocks.len());
        arrow(&mut o, (column(1) + node_w, cy), (column(2) - 2, y + node_h / 2));
        node(&mut o, n, column(2), y, false);
    }
    node(&mut o, center, column(1), row_y(0, 1), true);
    o.push_str("</svg>");
    o
}

/// Answers per day (bars) and learners active that day (line), `days` as (label, answers,
/// learners) in date order.
pub fn activity(days: &[(String, u32, u32)], title: &str) -> Result<String> {
    let n = days.len().max(1);
    let top = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(1).max(1);
    render(900, 320, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(svg_text(title), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0u32..top + top / 10 + 1)
            .map_err(chart_error)?;
        let labels: Vec<String> = days.iter().map(|d| svg_text(&d.0)).collect();
        chart
            .configure_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| labels.get(x.floor().max(0.0) as usize).cloned().unwrap_or_default())
            .y_desc("count")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(chart_error)?;
        let bar = SERIES[0].mix(0.7);
        chart
            .draw_series(
                days.iter()
                    .enumerate()
                    .map(|(k, d)| Rectangle::new([(k as f64 + 0.1, 0), (k as f64 + 0.9, d.1)], bar.filled())),
            )
            .map_err(chart_error)?
            .label("answers")
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], bar.filled()));
        chart
            .draw_series(LineSeries::new(
                days.iter().enumerate().map(|(k, d)| (k as f64 + 0.5, d.2)),
                SERIES[1].stroke_width(2),
            ))
            .map_err(chart_error)?
            .label("active learners")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], SERIES[1].stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_map_cells_carry_their_values() {
        let learners = vec!["ann".to_owned(), "bob <3".to_owned()];
        let skills = vec!["fractions".to_owned(), "a & b".to_owned()];
        let values = vec![vec![Some(0.25), None], vec![Some(1.0), Some(0.5)]];
        let links = vec!["/l/ann".to_owned(), "/l/bob".to_owned()];
        let ids = vec!["f1".to_owned(), "ab".to_owned()];
        let svg = HeatMap {
            title: "Class",
            learners: &learners,
            skills: &skills,
            skill_ids: None,
            values: &values,
            links: Some(&links),
        }
        .svg();
        let with_ids = HeatMap {
            title: "Class",
            learners: &learners,
            skills: &skills,
            skill_ids: Some(&ids),
            values: &values,
            links: None,
        }
        .svg();
        assert!(
            with_ids.contains("data-skill=\"f1\" data-mastery=\"0.2500\"") && with_ids.contains(">fractions</text>")
        );
        assert_eq!(svg.matches("data-mastery=").count(), 3, "one rect per practised cell");
        assert_eq!(svg.matches("data-background").count(), 2, "a grey background per column");
        assert!(svg.contains("data-skill=\"fractions\" data-mastery=\"0.2500\""));
        assert!(svg.contains("<g data-learner=\"bob &lt;3\">"));
        assert!(svg.contains("<title>bob &lt;3 · a &amp; b: 0.50</title>"));
        assert!(!svg.contains("ann · a &amp; b"), "an unpractised cell draws nothing");
        assert!(svg.contains("<a href=\"/l/bob\">"));
        assert!(!svg.contains("bob <3"), "text is escaped");
        // The scale's ends are the mastery colours.
        assert_eq!(mastery_color(0.0), RGBColor(215, 48, 39));
        assert_eq!(mastery_color(1.0), RGBColor(26, 152, 80));
    }

    #[test]
    fn prerequisite_graph_draws_each_neighbour_with_an_arrow() {
        let node = |l: &str, v| GraphNode { label: l.to_owned(), value: v, href: Some(format!("?skill={l}")) };
        let svg = prerequisite_graph(
            &node("division", Some(0.4)),
            &[node("multiplication", Some(0.9)), node("subtraction", None)],
            &[node("fractions", Some(0.1))],
            "Neighbourhood",
        );
        assert_eq!(svg.matches("<line ").count(), 3);
        assert_eq!(svg.matches("<a href=").count(), 4);
        assert!(svg.contains("division (0.40)") && svg.contains("subtraction (–)"));
    }

    #[test]
    fn activity_chart_renders() {
        let days = vec![("2026-12-01".to_owned(), 40, 7), ("2026-12-02".to_owned(), 12, 3)];
        let svg = activity(&days, "Activity").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("active learners"));
    }
}
