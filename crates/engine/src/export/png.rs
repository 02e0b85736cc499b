//! A scene rasterized to PNG without a window or GPU: rectangles with
//! fractional edges, axis-aligned lines, and text drawn from the outlines of
//! the monospace font egui ships (Hack, MIT/Bitstream Vera licence; its bytes
//! come from the `epaint_default_fonts` crate), read with `skrifa` and filled
//! by signed-area accumulation, anti-aliased.

use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, MetadataProvider};

use super::scene::{Rgb, Scene};

/// Scenes taller or wider than this many pixels are refused.
pub const MAX_SIDE_PX: u32 = 20_000;

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Canvas {
    fn blend(&mut self, x: usize, y: usize, c: Rgb, a: f32) {
        if x >= self.w || y >= self.h || a <= 0.0 {
            return;
        }
        let a = a.min(1.0);
        let p = &mut self.px[y * self.w + x];
        for i in 0..3 {
            p[i] = p[i] * (1.0 - a) + c[i] as f32 * a;
        }
    }

    /// A rectangle; partly covered edge pixels get partial colour.
    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, c: Rgb) {
        let (x0, y0, x1, y1) = (x.max(0.0), y.max(0.0), x + w, y + h);
        if x1 <= x0 || y1 <= y0 {
            return;
        }
        for py in y0.floor() as usize..(y1.ceil() as usize).min(self.h) {
            let cy = (y1.min(py as f32 + 1.0) - y0.max(py as f32)).max(0.0);
            for pxl in x0.floor() as usize..(x1.ceil() as usize).min(self.w) {
                let cx = (x1.min(pxl as f32 + 1.0) - x0.max(pxl as f32)).max(0.0);
                self.blend(pxl, py, c, cx * cy);
            }
        }
    }

    fn outline(&mut self, x: f32, y: f32, w: f32, h: f32, c: Rgb, t: f32) {
        self.fill(x, y, w, t, c);
        self.fill(x, y + h - t, w, t, c);
        self.fill(x, y, t, h, c);
        self.fill(x + w - t, y, t, h, c);
    }
}

/// Line segments of one glyph, in pixels, y down.
#[derive(Default)]
struct Segments {
    lines: Vec<[f32; 4]>,
    start: (f32, f32),
    at: (f32, f32),
}

impl Segments {
    fn to(&mut self, x: f32, y: f32) {
        self.lines.push([self.at.0, self.at.1, x, y]);
        self.at = (x, y);
    }
}

impl OutlinePen for Segments {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = (x, -y);
        self.at = (x, -y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.to(x, -y);
    }
    fn quad_to(&mut self, cx: f32, cy: f32, x: f32, y: f32) {
        let (x0, y0) = self.at;
        let (cy, y) = (-cy, -y);
        for i in 1..=6 {
            let t = i as f32 / 6.0;
            let u = 1.0 - t;
            self.to(
                u * u * x0 + 2.0 * u * t * cx + t * t * x,
                u * u * y0 + 2.0 * u * t * cy + t * t * y,
            );
        }
    }
    fn curve_to(&mut self, c0x: f32, c0y: f32, c1x: f32, c1y: f32, x: f32, y: f32) {
        let (x0, y0) = self.at;
        let (c0y, c1y, y) = (-c0y, -c1y, -y);
        for i in 1..=8 {
            let t = i as f32 / 8.0;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.to(
                a * x0 + b * c0x + c * c1x + d * x,
                a * y0 + b * c0y + c * c1y + d * y,
            );
        }
    }
    fn close(&mut self) {
        if self.at != self.start {
            self.to(self.start.0, self.start.1);
        }
    }
}

/// Coverage of a path made of closed line segments, over a `w`×`h` bitmap
/// whose origin is at (`ox`, `oy`) in the segments' space: each segment adds
/// its signed area per pixel, and a running sum along each row gives the
/// coverage.
fn coverage(lines: &[[f32; 4]], ox: f32, oy: f32, w: usize, h: usize) -> Vec<f32> {
    let stride = w + 2;
    let mut acc = vec![0.0f32; stride * h + 2];
    for &[ax, ay, bx, by] in lines {
        let (ax, ay, bx, by) = (ax - ox, ay - oy, bx - ox, by - oy);
        if ay == by {
            continue;
        }
        let (dir, (x0, y0), (x1, y1)) = if ay < by {
            (1.0, (ax, ay), (bx, by))
        } else {
            (-1.0, (bx, by), (ax, ay))
        };
        let dxdy = (x1 - x0) / (y1 - y0);
        let mut x = x0;
        if y0 < 0.0 {
            x -= y0 * dxdy;
        }
        let first = y0.max(0.0) as usize;
        let last = (y1.ceil().max(0.0) as usize).min(h);
        for row in first..last {
            let top = (row as f32).max(y0);
            let bottom = (row as f32 + 1.0).min(y1);
            let dy = bottom - top;
            if dy <= 0.0 {
                continue;
            }
            let xnext = x + dxdy * dy;
            let d = dy * dir;
            let (l, r) = if x < xnext { (x, xnext) } else { (xnext, x) };
            let (l, r) = (l.clamp(0.0, w as f32), r.clamp(0.0, w as f32));
            let base = row * stride;
            let li = l.floor() as usize;
            let ri = r.ceil() as usize;
            if ri <= li + 1 {
                // Within one pixel column: split by the mean x.
                let m = 0.5 * (l + r) - li as f32;
                acc[base + li] += d * (1.0 - m);
                acc[base + li + 1] += d * m;
            } else {
                // Across columns: the area to the right of the edge, column
                // by column.
                let s = 1.0 / (r - l);
                let lf = l - li as f32;
                let a0 = 0.5 * s * (1.0 - lf) * (1.0 - lf);
                let rf = r - ri as f32 + 1.0;
                let am = 0.5 * s * rf * rf;
                acc[base + li] += d * a0;
                if ri == li + 2 {
                    acc[base + li + 1] += d * (1.0 - a0 - am);
                } else {
                    let a1 = s * (1.5 - lf);
                    acc[base + li + 1] += d * (a1 - a0);
                    for c in li + 2..ri - 1 {
                        acc[base + c] += d * s;
                    }
                    let a2 = a1 + (ri - li - 3) as f32 * s;
                    acc[base + ri - 1] += d * (1.0 - a2 - am);
                }
                acc[base + ri] += d * am;
            }
            x = xnext;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for row in 0..h {
        let mut sum = 0.0;
        for col in 0..w {
            sum += acc[row * stride + col];
            out[row * w + col] = sum.abs().min(1.0);
        }
    }
    out
}

fn text(canvas: &mut Canvas, font: &FontRef, x: f32, baseline: f32, size: f32, c: Rgb, s: &str) {
    let charmap = font.charmap();
    let glyphs = font.outline_glyphs();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    let line = font.metrics(Size::new(size), LocationRef::default());
    let (ascent, descent) = (line.ascent.ceil(), (-line.descent).ceil());
    let mut pen_x = x;
    for ch in s.chars() {
        let Some(gid) = charmap.map(ch) else {
            pen_x += size * 0.6;
            continue;
        };
        let advance = metrics.advance_width(gid).unwrap_or(size * 0.6);
        if let Some(glyph) = glyphs.get(gid) {
            let mut seg = Segments::default();
            let settings = DrawSettings::unhinted(Size::new(size), LocationRef::default());
            if glyph.draw(settings, &mut seg).is_ok() && !seg.lines.is_empty() {
                // The glyph's box: from the pen, up to the ascent, down to
                // the descent, one advance (and a pixel) wide.
                let ox = pen_x.floor();
                let oy = (baseline - ascent).floor();
                let w = (advance + 2.0).ceil() as usize;
                let h = (ascent + descent + 2.0) as usize;
                let lines: Vec<[f32; 4]> = seg
                    .lines
                    .iter()
                    .map(|l| [l[0] + pen_x, l[1] + baseline, l[2] + pen_x, l[3] + baseline])
                    .collect();
                let cov = coverage(&lines, ox, oy, w, h);
                for (i, a) in cov.iter().enumerate() {
                    let (px, py) = (ox as i64 + (i % w) as i64, oy as i64 + (i / w) as i64);
                    if px >= 0 && py >= 0 {
                        canvas.blend(px as usize, py as usize, c, *a);
                    }
                }
            }
        }
        pen_x += advance;
    }
}

/// The PNG bytes of `scene`.
pub fn write(scene: &Scene) -> Result<Vec<u8>, String> {
    let (w, h) = (scene.width.ceil() as u32, scene.height.ceil() as u32);
    if w == 0 || h == 0 || w > MAX_SIDE_PX || h > MAX_SIDE_PX {
        return Err(format!(
            "the picture would be {w}×{h} pixels (at most {MAX_SIDE_PX} a side): ask for fewer rows"
        ));
    }
    let bg = scene.background.map(|c| c as f32);
    let mut canvas = Canvas {
        w: w as usize,
        h: h as usize,
        px: vec![bg; (w * h) as usize],
    };
    for l in &scene.lines {
        let (x, y) = (l.x1.min(l.x2), l.y1.min(l.y2));
        let (dx, dy) = ((l.x2 - l.x1).abs(), (l.y2 - l.y1).abs());
        canvas.fill(x, y, dx.max(1.0), dy.max(1.0), l.color);
    }
    for r in &scene.rects {
        canvas.fill(r.x, r.y, r.w, r.h, r.fill);
        if let Some(s) = r.stroke {
            canvas.outline(r.x, r.y, r.w, r.h, s, 1.5);
        }
    }
    let font = FontRef::new(epaint_default_fonts::HACK_REGULAR)
        .map_err(|e| format!("the embedded font does not read: {e}"))?;
    for t in &scene.texts {
        text(&mut canvas, &font, t.x, t.y, t.size, t.color, &t.text);
    }
    let data: Vec<u8> = canvas
        .px
        .iter()
        .flat_map(|p| p.map(|c| c.round().clamp(0.0, 255.0) as u8))
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&data).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
