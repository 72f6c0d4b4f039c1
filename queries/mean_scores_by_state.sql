-- What is the mean score per area (CN, CH, LC, MT and the essay) in each state?
-- State: SG_UF_PROVA. Population: candidates who are not practice takers (IN_TREINEIRO = 0);
-- each area's mean is over those with a score in it (present in that test); the essay mean is
-- over those whose essay was marked (present on day 1), annulled essays counting as 0.
-- Group size: candidates_day2, candidates_essay.
SELECT
    sg_uf_prova AS state,
    COUNT(nu_nota_mt) AS candidates_day2,
    COUNT(nu_nota_redacao) AS candidates_essay,
    ROUND(AVG(nu_nota_cn), 1) AS mean_cn,
    ROUND(AVG(nu_nota_ch), 1) AS mean_ch,
    ROUND(AVG(nu_nota_lc), 1) AS mean_lc,
    ROUND(AVG(nu_nota_mt), 1) AS mean_mt,
    ROUND(AVG(nu_nota_redacao), 1) AS mean_essay
FROM microdados_enem_2019
WHERE in_treineiro = 0
GROUP BY sg_uf_prova
ORDER BY sg_uf_prova
