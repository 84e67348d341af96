/**
 * GPS coordinates: a latitude in [-90, 90] and a longitude in [-180, 180], not (0, 0), written with
 * non-trivial precision (each with ≥ 2 decimals and ≥ 5 decimals together, i.e. about 100 m or
 * better; `39.9,116.4` is a city, not a person).
 * Forms: `"lat,lng"` strings (optionally in parentheses), WKT `POINT(lng lat)`, GeoJSON Point (as
 * an object or JSON text), and objects with a latitude and a longitude field (`{lat, lng}`,
 * `{latitude, longitude}`, `{lat, lon}`, pinyin `weidu/jingdu`, 纬度/经度). Masked to one decimal.
 */
import { redactedLabel, type Redacted } from '../mask.js';
import { tokenize } from '../tokenize.js';
import { type Detector } from './types.js';

export interface Coordinates {
  lat: number;
  lng: number;
}

const LAT_KEYS = new Set(['lat', 'latitude', 'weidu', '纬度', 'y_lat']);
const LNG_KEYS = new Set(['lng', 'lon', 'long', 'longitude', 'jingdu', '经度', 'x_lng']);

function decimals(s: string): number {
  const m = /\.(\d+)$/.exec(s);
  return m ? (m[1] as string).length : 0;
}

function numText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && /^\s*-?\d{1,3}(\.\d+)?\s*$/.test(v)) return v.trim();
  return undefined;
}

/** Validates a pair written as text (precision is counted on the text as written). */
export function coordinates(latText: string, lngText: string): Coordinates | undefined {
  const lat = Number(latText);
  const lng = Number(lngText);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lng) > 180 || (lat === 0 && lng === 0)) return undefined;
  const dl = decimals(latText);
  const dg = decimals(lngText);
  if (dl < 2 || dg < 2 || dl + dg < 5) return undefined;
  return { lat, lng };
}

function fromGeoJson(v: unknown): Coordinates | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { type?: unknown; coordinates?: unknown };
  if (o.type !== 'Point' || !Array.isArray(o.coordinates) || o.coordinates.length < 2) return undefined;
  const lng = numText(o.coordinates[0]);
  const lat = numText(o.coordinates[1]);
  return lng !== undefined && lat !== undefined ? coordinates(lat, lng) : undefined;
}

/** Coordinates held by an object: a GeoJSON Point, or one latitude and one longitude field. */
export function coordinatesFromObject(obj: Record<string, unknown>): Coordinates | undefined {
  const geo = fromGeoJson(obj);
  if (geo) return geo;
  let lat: string | undefined;
  let lng: string | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const key = tokenize(k).join('_');
    if (LAT_KEYS.has(key)) lat ??= numText(v);
    else if (LNG_KEYS.has(key)) lng ??= numText(v);
  }
  return lat !== undefined && lng !== undefined ? coordinates(lat, lng) : undefined;
}

/** Coordinates written in one string. */
export function coordinatesFromText(value: string): Coordinates | undefined {
  const s = value.trim();
  if (s.length > 200) return undefined;
  const pair = /^\(?\s*(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)\s*\)?$/.exec(s);
  if (pair) return coordinates(pair[1] as string, pair[2] as string);
  const wkt = /^POINT\s*\(\s*(-?\d{1,3}\.\d+)\s+(-?\d{1,2}\.\d+)\s*\)$/i.exec(s);
  if (wkt) return coordinates(wkt[2] as string, wkt[1] as string);
  if (s.startsWith('{') && s.includes('Point')) {
    try {
      return fromGeoJson(JSON.parse(s));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function maskCoordinates(c: Coordinates): Redacted {
  return redactedLabel(`${c.lat.toFixed(1)},${c.lng.toFixed(1)}`);
}

export function createGpsDetector(): Detector {
  return {
    id: 'gps',
    category: 'location',
    description: 'GPS coordinates with ~100 m precision or better ("lat,lng", WKT POINT, GeoJSON Point, lat/lng field pairs)',
    checksumBacked: false,
    detect: (value) => coordinatesFromText(value) !== undefined,
    mask(value) {
      const c = coordinatesFromText(value);
      return c ? maskCoordinates(c) : redactedLabel('[coordinates]');
    },
  };
}
