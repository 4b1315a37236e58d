/*
 * stream.c — the merged event stream (see stream.h). A CPU event records the length the
 * hardware log had when it happened (hwpos), so it goes before hardware event number hwpos.
 */
#include <stdio.h>
#include <string.h>

#include "report/stream.h"

void rep_stream_init(rep_stream *s, const sim_world *w, rep_stop_fn stop)
{
    memset(s, 0, sizeof(*s));
    s->stop = stop;
    s->hw = sim_hw(w);
    s->sev = sim_events(w, &s->nsev);
    s->hev = hw_events(s->hw, &s->nhw);
}

static void from_sim(struct rep_item *it, const sim_event *e)
{
    it->t = e->t;
    it->sim = e;
    it->hw = NULL;
    it->cpu = e->cpu;
    const char *who = sim_event_agent(e, it->agent, sizeof(it->agent));
    if (who != it->agent)
        snprintf(it->agent, sizeof(it->agent), "%s", who);
    sim_event_describe(e, it->what, sizeof(it->what));
}

static void from_hw(struct rep_item *it, const hw_machine *m, const hw_event *e)
{
    it->t = e->t;
    it->sim = NULL;
    it->hw = e;
    const char *who = hw_event_agent(e, it->agent, sizeof(it->agent));
    if (who != it->agent)
        snprintf(it->agent, sizeof(it->agent), "%s", who);
    it->cpu = strncmp(it->agent, "cpu", 3) ? -1 : (int)e->c2 - 1;
    hw_event_describe(m, e, it->what, sizeof(it->what));
}

bool rep_stream_next(rep_stream *s, struct rep_item *it)
{
    if (s->stop && (s->k + s->i) % REP_STOP_ITEMS == 0 && (s->k + s->i) && s->stop()) {
        s->stopped = true;
        return false;
    }
    if (s->k < s->nsev && s->sev[s->k].hwpos <= s->i) {
        from_sim(it, &s->sev[s->k++]);
        return true;
    }
    if (s->i < s->nhw) {
        from_hw(it, s->hw, &s->hev[s->i++]);
        return true;
    }
    return false;
}
