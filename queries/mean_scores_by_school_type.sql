-- What is the mean score per area by type of secondary school (TP_ESCOLA)?
-- Population: candidates who are not practice takers (IN_TREINEIRO = 0), all states; each
-- area's mean is over those with a score in it; the essay mean is over marked essays (annulled
-- = 0). "Não Respondeu" (1) is mostly candidates who finished school before 2019.
SELECT
    m.tp_escola AS school_type,
    l.label AS school_type_label,
    COUNT(*) AS candidates,
    ROUND(AVG(m.nu_nota_cn), 1) AS mean_cn,
    ROUND(AVG(m.nu_nota_ch), 1) AS mean_ch,
    ROUND(AVG(m.nu_nota_lc), 1) AS mean_lc,
    ROUND(AVG(m.nu_nota_mt), 1) AS mean_mt,
    ROUND(AVG(m.nu_nota_redacao), 1) AS mean_essay
FROM microdados_enem_2019 AS m
LEFT JOIN label_tp_escola AS l ON l.code = m.tp_escola
WHERE m.in_treineiro = 0
GROUP BY m.tp_escola, l.label
ORDER BY m.tp_escola
