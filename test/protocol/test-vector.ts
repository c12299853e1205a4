/** The test vector of the hb/1 contract (PROTOCOL.md), verbatim. */
export const VECTOR_SECRET = 'correct horse battery staple';

export const VECTOR_TEXT =
  'host=web1 ts=1764080000.123 seq=42 every=30 status=ok msg="disk 71% full" load=0.42 sig=4bf14434620a61cd4e1e05cb64cbfe01d53013bdf519123fc63ecee2e14ac79b';

export const VECTOR_ZLIB_BASE64 =
  'eNoNzUsOgzAMANGrWEjdIjsxoSx8mHwciqBCrUOr3r6Z/dM8Tmvy1UTQTGgOjHfsjeQ8mL6EHehH3z/xCNZiu0zOHZ62ylA222GmG9TrOAY4zlgExw5sW4VTJWbPwWEMlAsrKU45Bc6pKlKZPJJPpU609FfNwWtWdUoc87ykP4bsLKE=';

export const VECTOR_SIGNED_TEXT =
  'host=web1 ts=1764080000.123 seq=42 every=30 status=ok msg="disk 71% full" load=0.42';

export const VECTOR_SIG = '4bf14434620a61cd4e1e05cb64cbfe01d53013bdf519123fc63ecee2e14ac79b';
