-- How are the scores of each area distributed (50-point bins)?
-- Population: candidates who are not practice takers (IN_TREINEIRO = 0) with a score in the
-- area (present); the essay includes annulled essays at 0. bin_start = lower bound of the bin
-- (a score of exactly 1000 falls in the 1000 bin); share_pct is of the area's scores.
-- One pass over the table: each candidate row is paired with the five areas.
WITH scores AS (
    SELECT
        areas.area,
        CASE areas.area
            WHEN 'CN' THEN nu_nota_cn
            WHEN 'CH' THEN nu_nota_ch
            WHEN 'LC' THEN nu_nota_lc
            WHEN 'MT' THEN nu_nota_mt
            ELSE CAST(nu_nota_redacao AS DOUBLE)
        END AS score
    FROM microdados_enem_2019
    CROSS JOIN UNNEST(ARRAY['CN', 'CH', 'LC', 'MT', 'ESSAY']) AS areas (area)
    WHERE in_treineiro = 0
)
SELECT
    area,
    CAST(FLOOR(score / 50) * 50 AS INTEGER) AS bin_start,
    COUNT(*) AS candidates,
    ROUND(100 * CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (PARTITION BY area), 2)
        AS share_pct
FROM scores
WHERE score IS NOT NULL
GROUP BY area, CAST(FLOOR(score / 50) * 50 AS INTEGER)
ORDER BY area, bin_start
