-- How many registered for ENEM 2019 in each state, and how many actually sat the exam?
-- State: SG_UF_PROVA (where the exam was taken). Population: every registration; practice
-- takers (IN_TREINEIRO = 1) are included and also counted apart. Present on day 1 = sat LC
-- (languages, with CH and the essay); day 2 = sat MT (with CN); both days = present in all four
-- tests. Eliminated candidates (TP_PRESENCA = 2) count as not present.
-- Group size: registered.
SELECT
    sg_uf_prova AS state,
    COUNT(*) AS registered,
    SUM(CASE WHEN in_treineiro = 1 THEN 1 ELSE 0 END) AS practice_takers,
    SUM(CASE WHEN tp_presenca_lc = 1 THEN 1 ELSE 0 END) AS present_day1,
    SUM(CASE WHEN tp_presenca_mt = 1 THEN 1 ELSE 0 END) AS present_day2,
    SUM(CASE WHEN tp_presenca_cn = 1 AND tp_presenca_ch = 1 AND tp_presenca_lc = 1
             AND tp_presenca_mt = 1 THEN 1 ELSE 0 END) AS present_both_days,
    ROUND(100 * CAST(SUM(CASE WHEN tp_presenca_cn = 1 AND tp_presenca_ch = 1
                              AND tp_presenca_lc = 1 AND tp_presenca_mt = 1 THEN 1 ELSE 0 END)
                     AS DOUBLE) / COUNT(*), 2) AS attendance_pct
FROM microdados_enem_2019
GROUP BY sg_uf_prova
ORDER BY sg_uf_prova
