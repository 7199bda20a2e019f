"""The marts at a glance, as plain figures: what the Dagster reports show as metadata and the
run summary prints. Pure queries over the marts, no Dagster."""


def identity_figures(conn) -> dict:
    """Graph statistics: fans, size distribution, largest fans, quarantine, merges and splits, and
    the probable links by rule and status (the review queue)."""
    fans, records, singles, largest, mean, multi_silo = conn.execute("""
        select count(*), sum(record_count), count(*) filter (where record_count = 1), max(record_count),
               avg(record_count), count(*) filter (where silo_count >= 2)
        from marts.fans""").fetchall()[0]
    sizes = conn.execute("""
        select case when record_count = 1 then '1' when record_count <= 3 then '2-3'
                    when record_count <= 10 then '4-10' when record_count <= 30 then '11-30' else '>30' end,
               count(*)
        from marts.fans group by 1 order by min(record_count)""").fetchall()
    top = conn.execute("""
        select fan_id, record_count, silo_count from marts.fans
        order by record_count desc, fan_id limit 5""").fetchall()
    quarantine = conn.execute("""
        select identifier_type, decision || ': ' || decision_kind as reason, count(*), sum(records)
        from marts.quarantined_identifiers group by all order by 3 desc""").fetchall()
    changes = dict(conn.execute("select change_type, count(*) from marts.identity_changes group by 1").fetchall())
    refused, refused_links = conn.execute(
        "select count(*), coalesce(sum(refused_links), 0) from marts.refused_merges"
    ).fetchall()[0]
    oversized = conn.execute("select count(*) from marts.fans where is_over_size_limit").fetchall()[0][0]
    probable = conn.execute("""
        select rule_name, count(*) filter (where status = 'pending'), count(*) filter (where status = 'accepted'),
               count(*) filter (where status = 'rejected')
        from marts.probable_fan_links group by 1 order by 1""").fetchall()
    return {
        "fans": fans,
        "records": int(records or 0),
        "single_record_fans": singles,
        "largest_fan": largest or 0,
        "mean_records_per_fan": float(mean or 0),
        "fans_in_two_or_more_silos": multi_silo,
        "sizes": sizes,
        "largest_fans": top,
        "quarantine": quarantine,
        "refused_merges": refused,
        "refused_links": int(refused_links),
        "fans_over_size_limit": oversized,
        "merges": changes.get("merge", 0),
        "splits": changes.get("split", 0),
        "probable_links": probable,
        "probable_links_pending": sum(row[1] for row in probable),
    }


def marts_figures(conn) -> dict:
    """The short picture of each mart: ladder, community steps, engagement and trust tiers, top
    advocates, referral campaigns, channel overlap and how many offline buyers WeChat reaches."""

    def rows(sql: str) -> list:
        return conn.execute(sql).fetchall()

    reach = rows("""
        select fans, fans_in_two_or_more_silos, offline_buyers, offline_buyers_reachable_on_wechat,
               share_offline_reachable_on_wechat
        from marts.channel_reach""")[0]
    return {
        "as_of_date": str(rows("select as_of_date from intermediate.int_calendar__as_of")[0][0]),
        "ladder": rows("""
            select ladder_rung, count(*) from marts.fan_lifecycle group by ladder_rung, ladder_level
            order by ladder_level"""),
        "community_steps": rows("""
            select community_step, count(*) from marts.fan_lifecycle group by 1
            order by list_position(['individual', 'quasi-group', 'community', 'fan platform'], community_step)"""),
        "engagement_tiers": rows("""
            select engagement_tier, count(*), round(avg(engagement_score), 1) from marts.fan_engagement group by 1
            order by list_position(['dormant', 'low', 'medium', 'high'], engagement_tier)"""),
        "trust_tiers": rows("""
            select trust_tier, count(*), round(avg(trust_score), 1) from marts.fan_trust group by 1
            order by list_position(['low', 'medium', 'high'], trust_tier)"""),
        "suspected_fakes": rows("select count(*) from marts.fan_trust where is_suspected_fake")[0][0],
        "rfm_segments": rows("select rfm_segment, count(*) from marts.fan_rfm group by 1 order by 2 desc"),
        "top_advocates": rows("""
            select advocate_rank, fan_id, direct_referrals, converted_referrals, downstream_fans,
                   attributed_revenue_yuan, rewards_earned_yuan
            from marts.referral_advocates order by advocate_rank, fan_id limit 5"""),
        "campaigns": rows("""
            select campaign, referrals, converted_referrals, round(k_factor, 3), attributed_revenue_yuan,
                   self_referrals + loop_referrals as excluded
            from marts.referral_campaigns order by referrals desc"""),
        "channel_overlap": rows("""
            select silo_combination, fans, round(100 * share_of_fans, 1) from marts.channel_overlap
            order by fans desc"""),
        "fans": reach[0],
        "fans_in_two_or_more_silos": reach[1],
        "offline_buyers": reach[2],
        "offline_buyers_reachable_on_wechat": reach[3],
        "share_offline_reachable_on_wechat": float(reach[4] or 0),
    }
