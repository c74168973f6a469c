-- ecoeco_location: recycling sites (location-api), seeded with a deterministic grid around Seoul
CREATE TABLE IF NOT EXISTS sites (
    site_id BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    lat     DOUBLE PRECISION NOT NULL,
    lon     DOUBLE PRECISION NOT NULL
);
INSERT INTO sites (name, kind, lat, lon)
SELECT 'site-' || i || '-' || j,
       (ARRAY['bin', 'center', 'store', 'e-waste'])[1 + ((i + j) % 4)],
       37.45 + i * 0.01, 126.85 + j * 0.01
FROM generate_series(0, 19) AS i, generate_series(0, 19) AS j
WHERE NOT EXISTS (SELECT 1 FROM sites);
