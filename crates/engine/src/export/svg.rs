//! A scene as a standalone SVG document (no external references; each live
//! range keeps its tooltip as a `<title>`).

use std::fmt::Write as _;

use super::scene::{Rgb, Scene};

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// `&`, `<`, `>` and quotes escaped for XML text and attributes, and the
/// characters XML 1.0 cannot hold at all (control characters other than
/// tab and line breaks, U+FFFE, U+FFFF: a function's name may carry them)
/// shown as Rust writes them, `\u{1b}`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.extend(c.escape_unicode())
            }
            c => out.push(c),
        }
    }
    out
}

/// The SVG text of `scene`.
pub fn write(scene: &Scene) -> String {
    let mut s = String::with_capacity(256 + scene.rects.len() * 120);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="monospace">"#,
        w = scene.width.ceil(),
        h = scene.height.ceil()
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        hex(scene.background)
    );
    for l in &scene.lines {
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="1"/>"#,
            l.x1,
            l.y1,
            l.x2,
            l.y2,
            hex(l.color)
        );
    }
    for r in &scene.rects {
        let stroke = r
            .stroke
            .map(|c| format!(r#" stroke="{}" stroke-width="1.5""#, hex(c)))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="1.5" fill="{}"{stroke}>"#,
            r.x,
            r.y,
            r.w,
            r.h,
            hex(r.fill)
        );
        if let Some(t) = &r.title {
            let _ = write!(s, "<title>{}</title>", escape(t));
        }
        s.push_str("</rect>\n");
    }
    for t in &scene.texts {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="{}" fill="{}">{}</text>"#,
            t.x,
            t.y,
            t.size,
            hex(t.color),
            escape(&t.text)
        );
    }
    s.push_str("</svg>\n");
    s
}
