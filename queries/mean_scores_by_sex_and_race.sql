-- What is the mean score per area by sex (TP_SEXO) and colour/race (TP_COR_RACA)?
-- Population: candidates who are not practice takers (IN_TREINEIRO = 0), all states; each
-- area's mean is over those with a score in it; the essay mean is over marked essays (annulled
-- = 0). Race as self-declared at registration (0 = not declared).
SELECT
    m.tp_sexo AS sex,
    s.label AS sex_label,
    m.tp_cor_raca AS race,
    r.label AS race_label,
    COUNT(*) AS candidates,
    ROUND(AVG(m.nu_nota_cn), 1) AS mean_cn,
    ROUND(AVG(m.nu_nota_ch), 1) AS mean_ch,
    ROUND(AVG(m.nu_nota_lc), 1) AS mean_lc,
    ROUND(AVG(m.nu_nota_mt), 1) AS mean_mt,
    ROUND(AVG(m.nu_nota_redacao), 1) AS mean_essay
FROM microdados_enem_2019 AS m
LEFT JOIN label_tp_sexo AS s ON s.code = m.tp_sexo
LEFT JOIN label_tp_cor_raca AS r ON r.code = m.tp_cor_raca
WHERE m.in_treineiro = 0
GROUP BY m.tp_sexo, s.label, m.tp_cor_raca, r.label
ORDER BY m.tp_sexo, m.tp_cor_raca
