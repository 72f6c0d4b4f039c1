-- How does the mean score per area change with monthly family income (Q006)?
-- Population: candidates who are not practice takers (IN_TREINEIRO = 0) and answered Q006, all
-- states; each area's mean is over those with a score in it; the essay mean is over marked
-- essays (annulled = 0). Bands A (no income) to Q (above R$ 19,960), in 2019 reais.
SELECT
    m.q006 AS income_band,
    l.label AS income_band_label,
    COUNT(*) AS candidates,
    ROUND(AVG(m.nu_nota_cn), 1) AS mean_cn,
    ROUND(AVG(m.nu_nota_ch), 1) AS mean_ch,
    ROUND(AVG(m.nu_nota_lc), 1) AS mean_lc,
    ROUND(AVG(m.nu_nota_mt), 1) AS mean_mt,
    ROUND(AVG(m.nu_nota_redacao), 1) AS mean_essay
FROM microdados_enem_2019 AS m
LEFT JOIN label_q006 AS l ON l.code = m.q006
WHERE m.in_treineiro = 0 AND m.q006 IS NOT NULL
GROUP BY m.q006, l.label, l.ordinal
ORDER BY l.ordinal
