/**
 * Synthetic people for the sampling tests: every value is made up here, deterministically from a seed, yet
 * passes the real validators (Chinese resident IDs carry a correct GB 11643 check character computed in this
 * file, independently of src/assess; phone numbers are valid Chinese mobiles; coordinates have ~1 m precision;
 * the avatar is a real JPEG header in base64). `clearValues` lists what must never appear in a probe result.
 */
export interface Person {
  name: string;
  id_card: string;
  phone: string;
  email: string;
  location: { lat: number; lng: number };
  /** base64 of a small JPEG (SOI + JFIF APP0 + bytes + EOI). */
  avatar: string;
  chat_message: string;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same people on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** GB 11643-1999 check character: ISO 7064 MOD 11-2 over the first 17 digits. */
export function gb11643Check(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!;
  const c = (12 - (sum % 11)) % 11;
  return c === 10 ? 'X' : String(c);
}

/** A valid resident ID: Beijing/Shanghai/Guangdong county codes, a real birth date, a sequence. */
export function cnResidentId(rand: () => number): string {
  const regions = ['110105', '110108', '310115', '440305', '330106'];
  const region = regions[Math.floor(rand() * regions.length)]!;
  const year = 1960 + Math.floor(rand() * 40);
  const month = 1 + Math.floor(rand() * 12);
  const day = 1 + Math.floor(rand() * 28);
  const seq = String(Math.floor(rand() * 1000)).padStart(3, '0');
  const first17 = `${region}${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${seq}`;
  return first17 + gb11643Check(first17);
}

/** A JPEG: SOI, JFIF APP0 segment, `size` pseudo-random bytes, EOI. */
export function jpegBytes(rand: () => number, size = 1500): Buffer {
  const app0 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00]);
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = Math.floor(rand() * 256);
  return Buffer.concat([app0, body, Buffer.from([0xff, 0xd9])]);
}

/** A coordinate with six decimals whose last digit is not 0 (so JSON round trips keep its precision). */
function coord(rand: () => number, min: number, span: number): number {
  const micro = Math.floor(rand() * span * 1e6);
  return Number(((min * 1e6 + micro - (micro % 10) + 1 + Math.floor(rand() * 9)) / 1e6).toFixed(6));
}

/** Chinese mobile prefixes libphonenumber knows as mobile (China Mobile, Unicom, Telecom). */
const MOBILE_PREFIXES = ['134', '135', '136', '137', '138', '139', '150', '151', '152', '158', '159', '182', '183', '186', '187', '188', '189'];

const CHAT = [
  'Meet me at the north gate tomorrow, bring the signed papers',
  'The package arrived today, thanks for sending it so quickly',
  'Can you call my sister tonight? She lost her phone again',
  'I moved the appointment to Friday afternoon, see you there',
  'Please transfer the rent before the end of the month',
  'Dinner at my place on Saturday, my parents are visiting',
];

export function syntheticPeople(count: number, seed = 1): Person[] {
  const rand = prng(seed);
  const people: Person[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `${MOBILE_PREFIXES[Math.floor(rand() * MOBILE_PREFIXES.length)]}${String(Math.floor(rand() * 1e8)).padStart(8, '0')}`;
    people.push({
      name: `Synthetic Person ${seed}-${i}`,
      id_card: cnResidentId(rand),
      phone,
      email: `synthetic.${seed}.${i}.${Math.floor(rand() * 1e6)}@example.org`,
      location: { lat: coord(rand, 22, 18), lng: coord(rand, 100, 20) },
      avatar: jpegBytes(rand).toString('base64'),
      chat_message: `${CHAT[i % CHAT.length]} (${seed}-${i})`,
    });
  }
  return people;
}

/** The clear values of `people` a probe result must never contain (a distinctive slice of each avatar). */
export function clearValues(people: readonly Person[]): string[] {
  return people.flatMap((p) => [
    p.name,
    p.id_card,
    p.phone,
    p.email,
    String(p.location.lat),
    String(p.location.lng),
    p.avatar.slice(40, 100),
    p.chat_message,
  ]);
}

/** A ransom note in the style left on wiped MongoDB/Elasticsearch servers (a well-known valid address, no real wallet of anyone's). */
export const RANSOM_NOTE = {
  bitcoin: '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
  text:
    'All your data is backed up. You must pay 0.01 BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa ' +
    'In 48 hours, your data will be publicly disclosed and deleted. After paying send mail to us: ' +
    'recover.synthetic@example.org and we will provide a link for you to download your data. Your DBCODE is: SYN123',
};
