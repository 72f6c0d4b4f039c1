-- How are the scores of each area distributed (50-point bins)?
-- Population: candidates who are not practice takers (IN_TREINEIRO = 0) with a score in the
-- area (present); the essay includes annulled essays at 0. bin_start = lower bound of the bin
-- (a score of exactly 1000 falls in the 1000 bin); share_pct is of the area's scores.
WITH scores AS (
    SELECT 'CN' AS area, nu_nota_cn AS score FROM microdados_enem_2019 WHERE in_treineiro = 0
    UNION ALL
    SELECT 'CH', nu_nota_ch FROM microdados_enem_2019 WHERE in_treineiro = 0
    UNION ALL
    SELECT 'LC', nu_nota_lc FROM microdados_enem_2019 WHERE in_treineiro = 0
    UNION ALL
    SELECT 'MT', nu_nota_mt FROM microdados_enem_2019 WHERE in_treineiro = 0
    UNION ALL
    SELECT 'ESSAY', CAST(nu_nota_redacao AS DOUBLE) FROM microdados_enem_2019
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
